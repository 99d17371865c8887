"""describe, --help for every command, shell completion."""

import json
import subprocess

import pytest

from multiflexi.cli.main import main

#: every family and command issue 7 asks for
REQUIRED = {
    "application": [
        "list",
        "get",
        "create",
        "update",
        "delete",
        "import-json",
        "export-json",
        "validate-json",
        "remove-json",
    ],
    "company": ["list", "get", "create", "update", "remove"],
    "company-app": ["list", "assign", "unassign"],
    "company-env": ["list", "set", "unset"],
    "run-template": [
        "list",
        "get",
        "create",
        "update",
        "delete",
        "schedule",
        "preview",
        "assign-credential",
        "unassign-credential",
        "list-credentials",
        "stale",
    ],
    "job": ["list", "get", "cancel", "tail", "delete"],
    "queue": ["overview", "list", "fix"],
    "credential": ["list", "get", "create", "update", "remove"],
    "credential-type": ["list", "get", "create", "delete"],
    "credential-prototype": ["import-json", "validate-json", "export-json", "list", "get"],
    "user": ["list", "get", "create", "update", "delete"],
    "token": ["list", "get", "create", "revoke"],
    "encryption": ["status", "init", "rotate"],
    "audit": ["list"],
    "db": ["upgrade", "current", "check"],
}
STANDALONE = ["status", "describe", "prune", "completion"]


def _describe(cli):
    return cli.json("describe")


def test_describe_lists_every_required_command_with_its_options(cli):
    data = _describe(cli)
    commands = data["commands"]
    for family, verbs in REQUIRED.items():
        for verb in verbs:
            assert f"{family} {verb}" in commands, f"{family} {verb}"
    for name in STANDALONE:
        assert name in commands
    schedule = commands["run-template schedule"]
    assert schedule["aliases"] == ["run-template:schedule"]
    names = {n for p in schedule["parameters"] for n in p.get("names", [])}
    assert {"--id", "--env", "--at", "--wait", "--timeout"} <= names
    assert {p["name"] for p in data["global_options"]} >= {"output_format", "env_file", "verbose"}


def test_describe_needs_no_database(cli, tmp_path):
    cli.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'nothing-here.sqlite'}"
    assert "commands" in _describe(cli)


def _all_commands():
    from click.testing import CliRunner

    runner = CliRunner()
    result = runner.invoke(main, ["--format", "json", "describe"])
    return [name.split() for name in json.loads(result.stdout)["commands"]]


@pytest.mark.parametrize("words", _all_commands(), ids=" ".join)
def test_every_command_has_help(cli, words):
    result = cli(*words, "--help")
    assert result.exit_code == 0
    assert "Usage: multiflexi-cli " + " ".join(words) in result.stdout
    assert len(result.stdout.splitlines()) > 3


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files")],
)
def test_completion_prints_a_script_for_each_shell(cli, shell, marker):
    result = cli("completion", shell)
    assert result.exit_code == 0
    assert marker in result.stdout
    assert "_MULTIFLEXI_CLI_COMPLETE" in result.stdout


def test_bash_completion_completes_families_and_commands(cli):
    env = {**cli.env, "_MULTIFLEXI_CLI_COMPLETE": "bash_complete", "COMP_CWORD": "2"}
    from click.testing import CliRunner

    env["COMP_WORDS"] = "multiflexi-cli run-template sch"
    result = CliRunner().invoke(main, [], env=env, prog_name="multiflexi-cli")
    assert "plain,schedule" in result.stdout
    env.update({"COMP_WORDS": "multiflexi-cli cred", "COMP_CWORD": "1"})
    result = CliRunner().invoke(main, [], env=env, prog_name="multiflexi-cli")
    assert {"plain,credential", "plain,credential-type", "plain,credential-prototype"} <= set(
        result.stdout.split()
    )


def test_bash_accepts_the_generated_script(cli, tmp_path):
    script = tmp_path / "c.bash"
    script.write_text(cli("completion", "bash").stdout)
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0


def _documented_commands():
    """The commands named in the first column of the README's table of JSON keys."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### JSON keys", 1)[1].split("\n## ", 1)[0]
    found = set()
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or cells[0] in ("Command", ""):
            continue
        family, _, verbs = cells[0].partition(" ")
        if not verbs:
            found.add(family)
        found.update(f"{family} {verb.strip()}" for verb in verbs.split("/") if verb.strip())
    return found


def test_the_readme_documents_the_json_keys_of_every_command(cli):
    missing = sorted(set(_describe(cli)["commands"]) - _documented_commands())
    assert missing == []


def _walk(command, path):
    import click

    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), [*path, name])


def test_every_command_and_option_has_a_help_text():
    import click

    missing = []
    for path, command in _walk(main, ["multiflexi-cli"]):
        where = " ".join(path)
        if not (command.help or command.short_help or "").strip():
            missing.append(where)
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{where} {'/'.join(param.opts)}")
    assert missing == []
