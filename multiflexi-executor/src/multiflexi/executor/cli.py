"""The ``multiflexi-executor`` command."""

from __future__ import annotations

import click

from multiflexi.executor import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi-executor", message="%(prog)s %(version)s")
def main() -> None:
    """Run MultiFlexi jobs from the queue."""
