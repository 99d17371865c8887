"""The ``multiflexi-server`` command."""

from __future__ import annotations

import click

from multiflexi.server import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi-server", message="%(prog)s %(version)s")
def main() -> None:
    """Serve the MultiFlexi API and run the scheduler."""
