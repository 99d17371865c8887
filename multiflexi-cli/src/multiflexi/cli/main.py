"""The ``multiflexi-cli`` command."""

from __future__ import annotations

import click

from multiflexi.cli import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi-cli", message="%(prog)s %(version)s")
def main() -> None:
    """Administer MultiFlexi: applications, companies, run templates, jobs."""
