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
