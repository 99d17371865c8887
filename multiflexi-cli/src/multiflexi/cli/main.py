"""The ``multiflexi-cli`` command: the root group, global options, spelling aliases, exit codes.

Command families live in :mod:`multiflexi.cli.commands`, one module each,
imported only when a command of the family runs (``--version`` and
``company list`` start fast). The root group also accepts the original PHP
CLI's spellings, generically for every command:

- ``run-template:schedule`` for ``run-template schedule`` (and the original's
  older nouns such as ``runtemplate`` or ``crprototype``);
- ``--company_id`` for ``--company-id`` (an option of the command spelled with
  underscores; option values are never changed);
- ``--format``/``-f FORMAT``, ``--env-file``/``-e FILE``/``--environment FILE`` and
  ``--verbose`` after the command, where the original had them, as well as before it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import click

PROG = "multiflexi-cli"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_TIMEOUT = 124
FORMATS = ("table", "json", "yaml")
#: the original's format names, accepted too
FORMAT_ALIASES = {"text": "table", "txt": "table", "yml": "yaml"}
FORMAT_VARIABLE = "MULTIFLEXI_FORMAT"

#: command (or family) name -> "module:attribute" under multiflexi.cli.commands
COMMANDS: dict[str, str] = {
    "application": "application:group",
    "audit": "audit:group",
    "company": "company:group",
    "company-app": "company_app:group",
    "company-env": "company_env:group",
    "completion": "completion:command",
    "credential": "credential:group",
    "credential-prototype": "credential_prototype:group",
    "credential-type": "credential_type:group",
    "db": "db:group",
    "describe": "describe:command",
    "encryption": "encryption:group",
    "job": "job:group",
    "prune": "prune:command",
    "queue": "queue:group",
    "run-template": "run_template:group",
    "status": "status:command",
    "task": "task:group",
    "token": "token:group",
    "user": "user:group",
}
#: the original's older names of families and commands -> ours
LEGACY_NAMES: dict[str, str] = {
    "app": "application",
    "apps": "application",
    "companyapp": "company-app",
    "companyenv": "company-env",
    "credtype": "credential-type",
    "crprototype": "credential-prototype",
    "runtemplate": "run-template",
    "appstatus": "status",
}
#: global options the original also took after the command; moved before it
_MOVABLE_GLOBALS = frozenset({"--format", "--env-file", "-e", "--verbose"})
#: the original's name of --env-file
_ENVIRONMENT = "--environment"
_SHORT_FORMAT = "-f"
_HELP_NAMES = frozenset({"-h", "--help"})


def _options_of(command: click.Command | None) -> dict[str, click.Option]:
    """Every name (long and short) of the command's options -> the option."""
    if command is None:
        return {}
    found: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in [*param.opts, *param.secondary_opts]:
                found[name] = param
    return found


def _values_taken(option: click.Option | None) -> int:
    """How many words follow the option as its value (0 for a flag or a help name)."""
    if option is None or option.is_flag or option.count:
        return 0
    return max(option.nargs, 1)


def _subcommand(group: click.Command | None, name: str) -> click.Command | None:
    if not isinstance(group, click.Group):
        return None
    return group.get_command(click.Context(group), name)


def normalise_argv(args: Sequence[str], root: click.Group | None = None) -> list[str]:
    """Rewrite the original's spellings into ours; move global options to the front.

    ``noun:verb`` becomes ``noun verb`` and legacy nouns get their new names. The
    command being run is looked up (its family module is imported, as running it
    does anyway) so that only option *names* are rewritten: ``--some_option``
    becomes ``--some-option`` when that is an option of the command, and the value
    of an option that takes one is passed through untouched, whatever it looks
    like (``--cmdparams "--log_level {X}"``). A word that is no option of the
    command is left as it is (click reports it). ``--format``/``-f FORMAT``,
    ``--env-file``/``-e``/``--environment`` and ``--verbose`` given after the
    command move before it. Nothing after a ``--`` is touched.
    """
    top: click.Group = root if root is not None else main
    front: list[str] = []
    rest: list[str] = []
    words = list(args)
    globals_ = _options_of(top)
    command: click.Command | None = top
    at_root = True
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            rest.extend(words[index - 1 :])
            break
        if word.startswith("-") and len(word) > 1:
            own = _options_of(command)
            name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
            spelled = name
            if name.startswith("--") and name not in own and name not in _HELP_NAMES:
                dashed = "--" + name[2:].replace("_", "-")
                if dashed in own or dashed in _HELP_NAMES:
                    spelled = dashed
                elif dashed == _ENVIRONMENT:
                    spelled = "--env-file"
                elif dashed in globals_:
                    spelled = dashed
            option = own.get(spelled)
            target = rest
            if not at_root and option is None and spelled in _MOVABLE_GLOBALS:
                option = globals_.get(spelled)
                target = front
            elif (
                option is None
                and name == _SHORT_FORMAT
                and index < len(words)
                and (words[index].lower() in FORMATS or words[index].lower() in FORMAT_ALIASES)
            ):
                front.extend(["--format", words[index].lower()])
                index += 1
                continue
            target.append(spelled + eq + value)
            if option is not None and not eq:
                taken = _values_taken(option)
                target.extend(words[index : index + taken])
                index += taken
            continue
        if at_root:
            at_root = False
            noun, colon, verb = word.partition(":")
            noun = LEGACY_NAMES.get(noun, noun)
            names = [noun, verb] if colon and verb else [noun]
            rest.extend(names)
            for part in names:
                command = _subcommand(command, part)
            continue
        if isinstance(command, click.Group):
            command = _subcommand(command, word)
        rest.append(word)
    return front + rest


def detect_format(args: Sequence[str], environ: os._Environ[str] | dict[str, str]) -> str:
    """The output format the (normalised) arguments ask for, for reporting early errors."""
    chosen = environ.get(FORMAT_VARIABLE, "") or "table"
    for index, word in enumerate(args):
        if word == "--":
            break
        if word == "--format" and index + 1 < len(args):
            chosen = args[index + 1]
        elif word.startswith("--format="):
            chosen = word.partition("=")[2]
    chosen = chosen.lower()
    chosen = FORMAT_ALIASES.get(chosen, chosen)
    return chosen if chosen in FORMATS else "table"


def _format_type(value: str) -> str:
    lowered = value.lower()
    return FORMAT_ALIASES.get(lowered, lowered)


class RootGroup(click.Group):
    """Loads command families lazily; turns every user error into a message and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(LEGACY_NAMES.get(cmd_name, cmd_name))
        if spec is None:
            return None
        module_name, _, attribute = spec.partition(":")
        module = importlib.import_module(f"multiflexi.cli.commands.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = normalise_argv(sys.argv[1:] if args is None else list(args), self)
        fmt = detect_format(argv, os.environ)
        if not standalone_mode:
            return super().main(argv, prog_name or PROG, complete_var, False, **extra)
        try:
            result = super().main(argv, prog_name or PROG, complete_var, False, **extra)
        except click.exceptions.Abort:
            _fail(fmt, "aborted", "aborted", EXIT_ERROR)
        except click.ClickException as exc:
            _report_click(fmt, exc)
        except KeyboardInterrupt:
            _fail(fmt, "interrupted", "interrupted", 130)
        except Exception as exc:  # a user error from the core, or a database problem
            from multiflexi.cli.errors import describe_exception, extra_members

            described = describe_exception(exc)
            if described is None:
                raise
            kind, message, errors, code = described
            _fail(fmt, kind, message, code, errors, extra_members(exc))
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _report_click(fmt: str, exc: click.ClickException) -> NoReturn:
    if isinstance(exc, click.UsageError):
        if fmt == "table":
            exc.show()
            sys.exit(EXIT_USAGE)
        _fail(fmt, "usage", exc.format_message(), EXIT_USAGE)
    _fail(fmt, "error", exc.format_message(), exc.exit_code or EXIT_ERROR)


def _fail(
    fmt: str,
    kind: str,
    message: str,
    code: int,
    errors: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> NoReturn:
    from multiflexi.cli.output import report_error

    report_error(fmt, kind, message, code, errors, extra)
    sys.exit(code)


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 success, 1 error, 2 usage, 3 not found "
    "(run-template schedule --wait: the job's exit code, 124 on timeout).",
)
@click.version_option(package_name="multiflexi-cli", prog_name=PROG, message="%(prog)s %(version)s")
@click.option(
    "--format",
    "output_format",
    type=click.Choice([*FORMATS, *FORMAT_ALIASES], case_sensitive=False),
    default=None,
    help=f"Output: table (for people), json or yaml (for scripts). Default: ${FORMAT_VARIABLE}, "
    "else table.",
)
@click.option(
    "-e",
    "--env-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings (DATABASE_URL, DB_*, REDIS_URL, ...) from this KEY=value file; "
    "the environment wins. Default: $MULTIFLEXI_ENV_FILE, else /etc/multiflexi/multiflexi.env.",
)
@click.option("--verbose", is_flag=True, help="Show more detail in messages.")
@click.pass_context
def main(
    ctx: click.Context, output_format: str | None, env_file: str | None, verbose: bool
) -> None:
    """Administer MultiFlexi: applications, companies, run templates, jobs, credentials.

    Data goes to stdout, messages and errors to stderr. Original spellings work
    too: `run-template:schedule --runtemplate_id 5`.
    """
    from multiflexi.cli.context import App

    fmt = _format_type(output_format or os.environ.get(FORMAT_VARIABLE, "") or "table")
    if fmt not in FORMATS:
        raise click.BadParameter(
            f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint=f"${FORMAT_VARIABLE}"
        )
    app = App(fmt=fmt, env_file=env_file, verbose=verbose)
    ctx.obj = app
    ctx.call_on_close(app.close)
