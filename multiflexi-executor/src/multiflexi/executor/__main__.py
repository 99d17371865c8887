"""``python -m multiflexi.executor``: the same as the ``multiflexi-executor`` command."""

from multiflexi.executor.cli import main

main(prog_name="multiflexi-executor")
