"""Ids out of range: a usage error naming the option (exit 2), never a query or a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from multiflexi.cli.main import main
from multiflexi.cli.params import ID, ID_OR_KEY
from multiflexi.core import companies, ids

TOO_LARGE = "99999999999999999999"  # beyond 64 bits: SQLite itself cannot take it
BEYOND_INTEGER = str(ids.MAX_ID + 1)  # fits 64 bits, overflows PostgreSQL's and MariaDB's INTEGER


def commands(group: click.Group, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx)
            for path, leaf in commands(command, sub):
                yield f"{name} {path}", leaf
        else:
            yield name, command


def id_options() -> list[tuple[str, click.Option]]:
    ctx = click.Context(main, info_name="multiflexi-cli")
    found = []
    for path, command in commands(main, ctx):
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            if any(o == "--id" or o.endswith("-id") or o == "--company" for o in param.opts):
                found.append((f"{path} {param.opts[0]}", param))
    return found


def test_every_id_option_of_every_command_checks_the_range():
    found = id_options()
    assert len(found) > 30  # the walk reached the whole tree
    # --entity-id of audit list is the audit log's text key, not an object id
    wrong = [
        name
        for name, param in found
        if param.type not in (ID, ID_OR_KEY) and not name.endswith("--entity-id")
    ]
    assert wrong == []


ID_ARGS = [
    ["user", "get", "--id"],
    ["job", "get", "--id"],
    ["job", "list", "--runtemplate-id"],
    ["token", "list", "--user-id"],
    ["run-template", "get", "--id"],
    ["runtemplate:get", "--runtemplate-id"],
    ["application", "get", "--id"],
    ["credential", "get", "--id"],
]
#: options that take an id or a slug: digits must be an id; "-3" is a slug (not found)
ID_OR_SLUG_ARGS = [
    ["company", "get", "--id"],
    ["run-template", "list", "--company"],
    ["audit", "list", "--company"],
]


def cases() -> Iterator[object]:
    for args in ID_ARGS + ID_OR_SLUG_ARGS:
        numbers = [TOO_LARGE, BEYOND_INTEGER, "0"]
        if args in ID_ARGS:
            numbers.append("-3")
        for number in numbers:
            yield pytest.param(args, number, id=f"{' '.join(args)} {number}")


@pytest.mark.parametrize(("args", "number"), list(cases()))
def test_an_id_no_object_can_have_is_a_usage_error(cli, args, number):
    result = cli(*args, number)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"'{args[-1]}'" in result.stderr
    assert f"'{number}' is not an id: ids are whole numbers from 1 to {ids.MAX_ID}" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_in_json_mode_the_range_error_is_a_json_usage_error(cli):
    result = cli("--format", "json", "job", "get", "--id", TOO_LARGE)
    assert result.exit_code == 2
    assert '"usage"' in result.stderr and "is not an id" in result.stderr


def test_the_largest_id_is_accepted_and_simply_not_found(cli):
    result = cli("job", "get", "--id", str(ids.MAX_ID))
    assert result.exit_code == 3
    assert result.stderr.strip() == f"Error: job {ids.MAX_ID} not found"


def test_a_slug_still_works_where_an_id_or_a_slug_is_taken(cli, session, actor):
    company = companies.create(session, name="Acme", actor=actor)
    assert cli.json("company", "get", "--id", "acme")["id"] == company.id
    assert cli.json("company", "get", "--id", f"00{company.id}")["slug"] == "acme"


@pytest.mark.parametrize(
    ("command", "option", "low"),
    [
        ("run-template", "--timeout", 1),
        ("run-template", "--max-concurrency", 1),
        ("run-template", "--max-attempts", 1),
        ("run-template", "--retry-min-gap", 0),
        ("application", "--timeout", 1),
    ],
)
def test_a_setting_too_large_for_the_database_is_refused_and_changes_nothing(
    cli, sleep_rt, command, option, low
):
    object_id = sleep_rt["rt_id"] if command == "run-template" else sleep_rt["app_id"]
    before = cli.json(command, "get", "--id", str(object_id))
    result = cli(command, "update", "--id", str(object_id), option, TOO_LARGE)
    assert result.exit_code == 1, result.output
    assert "must be a whole number" in result.stderr
    assert f"from {low} to {ids.MAX_ID}" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.json(command, "get", "--id", str(object_id)) == before
