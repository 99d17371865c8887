"""The dependency rules of ARCHITECTURE.md section 2, checked on what is installed.

Imports are read from the installed files of every component (so the test also
holds for a packager's build), and from the workspace sources when present.
Declared requirements are checked too: siblings only in the allowed direction,
ranges everywhere except the exact pins of multiflexi-all.
"""

from __future__ import annotations

import ast
import importlib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

WORKSPACE = Path(__file__).resolve().parents[2]

# component -> import prefixes it must never use
FORBIDDEN_IMPORTS = {
    "database": (
        "multiflexi.core",
        "multiflexi.cli",
        "multiflexi.server",
        "multiflexi.executor",
        "multiflexi.all",
        "flask",
        "rq",
    ),
    "core": (
        "multiflexi.cli",
        "multiflexi.server",
        "multiflexi.executor",
        "multiflexi.all",
        "flask",
        "flask_sqlalchemy",
        "flask_migrate",
        "click",
    ),
    "cli": ("multiflexi.server", "multiflexi.executor", "multiflexi.all", "flask"),
    "server": ("multiflexi.executor", "multiflexi.cli", "multiflexi.all"),
    "executor": ("multiflexi.server", "multiflexi.cli", "multiflexi.all", "flask"),
}

# component -> the siblings it may require
ALLOWED_SIBLINGS = {
    "database": set(),
    "core": {"multiflexi-database"},
    "executor": {"multiflexi-core"},
    "server": {"multiflexi-core"},
    "cli": {"multiflexi-core"},
    "all": {"multiflexi-cli", "multiflexi-server", "multiflexi-executor"},
}


def imports_of(source: str, filename: str):
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def violations(component: str, files: list[tuple[str, str]]) -> list[str]:
    found = []
    for filename, source in files:
        for lineno, name in imports_of(source, filename):
            for prefix in FORBIDDEN_IMPORTS[component]:
                if name == prefix or name.startswith(prefix + "."):
                    found.append(f"{filename}:{lineno}: multiflexi-{component} imports {name}")
    return found


def installed_sources(component: str) -> list[tuple[str, str]]:
    """The sources of the importable package, wherever (and however) it is installed."""
    package = importlib.import_module(f"multiflexi.{component}")
    sources = []
    for location in package.__path__:
        for path in sorted(Path(location).rglob("*.py")):
            sources.append((str(path), path.read_text(encoding="utf-8")))
    return sources


def workspace_sources(component: str) -> list[tuple[str, str]]:
    src = WORKSPACE / f"multiflexi-{component}" / "src"
    return [
        (str(p.relative_to(WORKSPACE)), p.read_text(encoding="utf-8"))
        for p in sorted(src.rglob("*.py"))
    ]


def test_the_rule_detects_a_forbidden_import():
    bad = [("core/x.py", "import flask\nfrom multiflexi.executor.tasks import run_job\n")]
    assert violations("core", bad) == [
        "core/x.py:1: multiflexi-core imports flask",
        "core/x.py:2: multiflexi-core imports multiflexi.executor.tasks",
    ]


@pytest.mark.parametrize("component", sorted(FORBIDDEN_IMPORTS))
def test_installed_component_respects_import_rules(component):
    files = installed_sources(component)
    assert files, f"no installed sources found for multiflexi-{component}"
    assert violations(component, files) == []


@pytest.mark.skipif(
    not (WORKSPACE / "multiflexi-core" / "src").is_dir(),
    reason="runs only inside the source workspace",
)
@pytest.mark.parametrize("component", sorted(FORBIDDEN_IMPORTS))
def test_workspace_sources_respect_import_rules(component):
    assert violations(component, workspace_sources(component)) == []


@pytest.mark.parametrize("component", sorted(ALLOWED_SIBLINGS))
def test_declared_sibling_requirements(component):
    requirements = [Requirement(r) for r in metadata.requires(f"multiflexi-{component}") or []]
    siblings = {r.name: r for r in requirements if r.name.startswith("multiflexi-")}
    assert set(siblings) == ALLOWED_SIBLINGS[component]
    for req in siblings.values():
        operators = {s.operator for s in req.specifier}
        if component == "all":
            assert operators == {"=="}, f"multiflexi-all must pin {req} exactly"
        else:
            assert "==" not in operators and operators, f"{req} must be a version range"


def test_core_does_not_require_a_web_framework():
    names = {Requirement(r).name.lower() for r in metadata.requires("multiflexi-core") or []}
    assert not names & {"flask", "flask-sqlalchemy", "flask-migrate", "click"}


def test_namespace_package_has_no_init():
    import multiflexi

    assert getattr(multiflexi, "__file__", None) is None, "multiflexi must stay a PEP 420 namespace"
