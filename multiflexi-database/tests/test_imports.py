"""What importing the schema loads: only what every command needs."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_tables_does_not_load_the_mysql_dialect():
    # a command on SQLite or PostgreSQL should not pay for loading SQLAlchemy's MySQL dialect
    code = (
        "import sys, multiflexi.database.tables\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.mysql'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
