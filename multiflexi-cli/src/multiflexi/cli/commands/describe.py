"""``describe``: every command and option as JSON, for tools and documentation."""

from __future__ import annotations

from typing import Any

import click

from multiflexi.cli import output


def _parameter(param: click.Parameter) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": param.name,
        "kind": "option" if isinstance(param, click.Option) else "argument",
        "required": param.required,
        "multiple": param.multiple,
        "type": param.type.name,
    }
    if isinstance(param, click.Option):
        data["names"] = [*param.opts, *param.secondary_opts]
        data["is_flag"] = param.is_flag
        data["help"] = param.help
    if isinstance(param.type, click.Choice):
        data["choices"] = list(param.type.choices)
    default = param.default
    data["default"] = default if isinstance(default, str | int | float | bool | None) else None
    return data


def _walk(
    ctx: click.Context, command: click.Command, path: list[str], into: dict[str, Any]
) -> None:
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                _walk(ctx, sub, [*path, name], into)
        return
    name = " ".join(path)
    into[name] = {
        "description": (command.help or "").strip().split("\n\n")[0].replace("\n", " "),
        "aliases": [":".join(path)] if len(path) > 1 else [],
        "parameters": [_parameter(p) for p in command.params if p.name != "help"],
    }


@click.command("describe")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Every command with its options, as JSON (or YAML with --format yaml)."""
    root = ctx.find_root()
    commands: dict[str, Any] = {}
    _walk(root, root.command, [], commands)
    data = {
        "program": root.info_name,
        "global_options": [_parameter(p) for p in root.command.params if p.name != "help"],
        "commands": commands,
    }
    fmt = root.obj.fmt if root.obj is not None else "json"
    output.emit("yaml" if fmt == "yaml" else "json", data)
