import subprocess
import sys


def test_importing_core_pulls_in_no_web_or_cli_framework():
    code = (
        "import sys, multiflexi.core\n"
        "bad = sorted(m for m in ('flask', 'click', 'multiflexi.server', 'multiflexi.cli',"
        " 'multiflexi.executor') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_settings_and_companies_load_no_cron_crypto_or_mysql_modules():
    # what every command of the CLI and the server loads before its first query; croniter,
    # cryptography and SQLAlchemy's MySQL dialect load where they are first needed
    code = (
        "import sys, multiflexi.core.companies, multiflexi.core.config\n"
        "multiflexi.core.config.load_settings(environ={'DATABASE_URL': 'sqlite://'})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('croniter', 'cryptography')"
        " or m.startswith('sqlalchemy.dialects.mysql') or m == 'multiflexi.core.crypto')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_version_is_read_on_first_use():
    from importlib import metadata

    import multiflexi.core

    assert multiflexi.core.__version__ == metadata.version("multiflexi-core")
