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


#: the values every component must agree on, each written once (issue 23): the output
#: channel, the RQ id of a job's delivery, the retry backoffs, the executors, the
#: redaction marker
CONTRACT_VALUES = (
    "multiflexi:job:{job_id}:output",
    "job-{job_id}",
    ("none", "fixed", "linear", "exponential"),
    ("native", "docker", "podman", "kubernetes"),
    "***",
)
#: the body of a UTC clock function
CLOCK_BODY = "return dt.datetime.now(dt.UTC)"


def _code_of(function: ast.FunctionDef) -> str:
    """The function's body without its docstring, as source."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return "\n".join(ast.unparse(statement) for statement in body)


def contract_definitions(files: list[tuple[str, str]]) -> dict[object, list[str]]:
    """Where each contract value is assigned at module level, and where a clock is defined."""
    found: dict[object, list[str]] = {value: [] for value in (*CONTRACT_VALUES, CLOCK_BODY)}
    for filename, source in files:
        for node in ast.parse(source, filename=filename).body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(value, list):
                    value = tuple(value)
                if isinstance(value, str | tuple) and value in found:
                    found[value].append(f"{filename}:{node.lineno}")
            elif isinstance(node, ast.FunctionDef) and _code_of(node) == CLOCK_BODY:
                found[CLOCK_BODY].append(f"{filename}:{node.lineno}")
    return found


def test_the_contract_rule_finds_a_copy():
    copies = [
        ("a.py", 'REDACTED = "***"\ndef now():\n    return dt.datetime.now(dt.UTC)\n'),
        ("b.py", 'MASK: str = "***"\nCHOICES = ["native", "docker", "podman", "kubernetes"]\n'),
        ("c.py", 'def clock():\n    """Now."""\n    return dt.datetime.now(dt.UTC)\nx = "*" * 3\n'),
    ]
    found = contract_definitions(copies)
    assert found["***"] == ["a.py:1", "b.py:1"]
    assert found[CLOCK_BODY] == ["a.py:2", "c.py:1"]
    assert found[("native", "docker", "podman", "kubernetes")] == ["b.py:2"]


@pytest.mark.skipif(
    not (WORKSPACE / "multiflexi-core" / "src").is_dir(),
    reason="runs only inside the source workspace",
)
def test_each_contract_is_declared_once():
    files = [f for component in (*FORBIDDEN_IMPORTS, "all") for f in workspace_sources(component)]
    found = contract_definitions(files)
    assert {value: len(places) for value, places in found.items()} == dict.fromkeys(found, 1), found
