from importlib import metadata

from click.testing import CliRunner

from multiflexi.all.cli import main


def test_version_reports_this_distribution():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"multiflexi {metadata.version('multiflexi-all')}"
