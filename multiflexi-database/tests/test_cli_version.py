from importlib import metadata

import pytest

from multiflexi.database.cli import main


def test_version_reports_this_distribution(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    expected = f"multiflexi-database {metadata.version('multiflexi-database')}"
    assert capsys.readouterr().out.strip() == expected
