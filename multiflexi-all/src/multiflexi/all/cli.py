"""The ``multiflexi`` command."""

from __future__ import annotations

import click

from multiflexi.all import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi", message="%(prog)s %(version)s")
def main() -> None:
    """MultiFlexi: the pinned set of components and the one-command stack."""


@main.command()
@click.option("--demo", is_flag=True, help="Import example applications and run a demo job.")
def up(demo: bool) -> None:
    """Start the whole stack on this machine (not yet available)."""
    click.echo(
        "multiflexi up: not yet available; the one-command stack arrives with the "
        "multiflexi-all issue. Until then run the components one by one.",
        err=True,
    )
    raise SystemExit(1)
