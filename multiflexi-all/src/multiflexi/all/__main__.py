"""The ``multiflexi`` command (also ``python -m multiflexi.all``).

A Ctrl-C while the command is still being loaded ends it quietly (exit 130): nothing
has been started yet, and a traceback would only alarm.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from multiflexi.all.cli import main as command
    except KeyboardInterrupt:
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
