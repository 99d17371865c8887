"""multiflexi-all pins the tested set: each pin must equal the sibling's own version."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from multiflexi.all import versions

WORKSPACE = Path(__file__).resolve().parents[2]
PINNED = ("multiflexi-cli", "multiflexi-server", "multiflexi-executor")


def test_all_pins_cli_server_executor_exactly():
    assert set(versions.pins()) == set(PINNED)


@pytest.mark.parametrize("name", PINNED)
def test_pin_equals_installed_version(name):
    assert versions.pins()[name] == metadata.version(name), (
        f"multiflexi-all pins {name}=={versions.pins()[name]} but {metadata.version(name)} "
        "is installed: bump the pin together with the component"
    )


@pytest.mark.skipif(
    not (WORKSPACE / "multiflexi-cli" / "pyproject.toml").is_file(),
    reason="runs only inside the source workspace, where the siblings' pyproject.toml live",
)
@pytest.mark.parametrize("name", PINNED)
def test_pin_equals_sibling_source_version(name):
    own = tomllib.loads((WORKSPACE / "multiflexi-all" / "pyproject.toml").read_text())
    sibling = tomllib.loads((WORKSPACE / name / "pyproject.toml").read_text())
    pinned = [d for d in own["project"]["dependencies"] if d.startswith(name + "==")]
    assert pinned == [f"{name}=={sibling['project']['version']}"]


def test_the_installed_set_is_the_pinned_one():
    assert versions.is_pinned_set(), [c for c in versions.component_versions() if not c.matches]
