"""The ``multiflexi`` command: the pinned set, the one-command stack, deployment files."""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path

import click

from multiflexi.all import __version__

DEPLOY_FILES = (
    "multiflexi-server.service",
    "multiflexi-scheduler.service",
    "multiflexi-executor@.service",
    "multiflexi.env",
    "multiflexi.sysusers",
    "multiflexi.tmpfiles",
)


def _fail(message: str) -> None:
    click.echo(f"multiflexi: {message}", err=True)
    raise SystemExit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi", message="%(prog)s %(version)s")
def main() -> None:
    """MultiFlexi: the pinned set of components and the one-command stack."""


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the stack keeps its database, keys and logs "
    "(default: MULTIFLEXI_DATA_DIR or ~/.local/share/multiflexi).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="Port of the web server on 127.0.0.1.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Executor worker processes.",
)
@click.option("--demo", is_flag=True, help="Import example applications and run a demo job.")
def up(data_dir: Path | None, port: int, workers: int, demo: bool) -> None:
    """Start the whole stack on this machine in the foreground (Ctrl-C stops it).

    A component that exits is started again; only Ctrl-C or SIGTERM stop the stack.
    """
    from multiflexi.all import stack

    # the stop signals are the stack's from here on (the module imports only the stdlib)
    supervisor = stack.Supervisor(click.echo)
    try:
        with supervisor.installed():
            environ = dict(os.environ)
            options = stack.StackOptions(
                data_dir=data_dir or stack.default_data_dir(environ),
                port=port,
                workers=workers,
                demo=demo,
            )
            code = stack.run(options, environ, supervisor=supervisor)
    except stack.StackError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C before the stack's own handlers were in place
        raise SystemExit(130) from None
    except Exception as exc:  # a component's own user-facing error: one line, no traceback
        from multiflexi.core.errors import MultiFlexiError

        if isinstance(exc, MultiFlexiError):
            _fail(exc.message)
        raise
    raise SystemExit(code)


@main.command("versions")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file naming the database (for its schema revision).",
)
def versions_command(fmt: str, env_file: Path | None) -> None:
    """Installed component versions, the schema revision, and whether it is the pinned set."""
    from multiflexi.all import versions

    components = versions.component_versions()
    schema = versions.schema_revision(env_file)
    pinned = all(c.matches for c in components)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "components": {
                        c.name: {"installed": c.installed, "pinned": c.pinned} for c in components
                    },
                    "schema": schema,
                    "pinned_set": pinned,
                },
                indent=2,
            )
        )
        return
    for c in components:
        mark = "" if c.matches else f"  (pinned {c.pinned})"
        click.echo(f"{c.name:22} {c.installed or 'not installed'}{mark}")
    click.echo(f"{'database schema':22} {schema['revision'] or '-'} ({schema['state']})")
    click.echo("the pinned, tested set" if pinned else "NOT the pinned set")
    if not pinned:
        sys.exit(1)


@main.command("deploy-files")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the files into this folder (default: print them).",
)
def deploy_files(dest: Path | None) -> None:
    """The systemd units, users, directories and env file template, printed or put in --dest."""
    folder = resources.files("multiflexi.all") / "deploy"
    for name in DEPLOY_FILES:
        text = (folder / name).read_text(encoding="utf-8")
        if dest is None:
            click.echo(f"# ---- {name}")
            click.echo(text)
            continue
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / name
        target.write_text(text, encoding="utf-8")
        if name.endswith(".env"):
            target.chmod(0o600)
        click.echo(str(target))
