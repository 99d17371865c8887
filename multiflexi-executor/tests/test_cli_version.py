from importlib import metadata

from click.testing import CliRunner

from multiflexi.executor.cli import main


def test_version_reports_this_distribution():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"multiflexi-executor {metadata.version('multiflexi-executor')}"
