"""``completion``: the shell completion script (click's own mechanism)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VARIABLE = "_MULTIFLEXI_CLI_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash: eval "$(multiflexi-cli completion bash)"   (in ~/.bashrc)
    zsh:  eval "$(multiflexi-cli completion zsh)"    (in ~/.zshrc)
    fish: multiflexi-cli completion fish > ~/.config/fish/completions/multiflexi-cli.fish
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root()
    completion = get_completion_class(shell)
    assert completion is not None  # every name in SHELLS is one of click's
    script = completion(root.command, {}, root.info_name or "multiflexi-cli", COMPLETE_VARIABLE)
    click.echo(script.source())
