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
#: the URL prefixes of the API and of the compatibility layer: besides their one
#: declaration no string in the code (docstrings aside) may spell them
URL_PREFIXES = ("/api/v1", "/api/VitexSoftware/MultiFlexi/1.0.0")


def _code_of(function: ast.FunctionDef) -> str:
    """The function's body without its docstring, as source."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return "\n".join(ast.unparse(statement) for statement in body)


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _prefix_literals(tree: ast.Module, filename: str, found: dict[object, list[str]]) -> None:
    """Every string of code (not a docstring) that spells a URL prefix."""
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            for prefix in URL_PREFIXES:
                if prefix in node.value:
                    found[prefix].append(f"{filename}:{node.lineno}")


def contract_definitions(files: list[tuple[str, str]]) -> dict[object, list[str]]:
    """Where each contract value is assigned at module level, where a clock is defined,
    and where a URL prefix is written."""
    found: dict[object, list[str]] = {
        value: [] for value in (*CONTRACT_VALUES, CLOCK_BODY, *URL_PREFIXES)
    }
    for filename, source in files:
        tree = ast.parse(source, filename=filename)
        _prefix_literals(tree, filename, found)
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    continue
                if isinstance(value, list):
                    value = tuple(value)
                try:
                    hash(value)
                except TypeError:  # e.g. a tuple of lists: no contract is such a value
                    continue
                if isinstance(value, str | tuple) and value in found and value not in URL_PREFIXES:
                    found[value].append(f"{filename}:{node.lineno}")
            elif isinstance(node, ast.FunctionDef) and _code_of(node) == CLOCK_BODY:
                found[CLOCK_BODY].append(f"{filename}:{node.lineno}")
    return found


def test_the_contract_rule_finds_a_copy():
    copies = [
        ("a.py", 'REDACTED = "***"\ndef now():\n    return dt.datetime.now(dt.UTC)\n'),
        ("b.py", 'MASK: str = "***"\nCHOICES = ["native", "docker", "podman", "kubernetes"]\n'),
        ("c.py", 'def clock():\n    """Now."""\n    return dt.datetime.now(dt.UTC)\nx = "*" * 3\n'),
        ("d.py", '"""Under /api/v1."""\nPREFIX = "/api/v1"\nLOGIN = "POST /api/v1/auth/login"\n'),
        ("e.py", 'def f(app):\n    """At /api/v1."""\n    app.add(bp, url_prefix="/api/v1")\n'),
        ("f.py", 'def g(i):\n    return {"Location": f"/api/v1/applications/{i}"}\n'),
    ]
    found = contract_definitions(copies)
    assert sorted(found["/api/v1"]) == ["d.py:2", "d.py:3", "e.py:3", "f.py:2"]
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


#: the server's faces that stand beside the API (folders of multiflexi/server): each builds
#: on the core and on what the server shares (request, openapi, auth, errors), never on the
#: API's modules; the web UI's folder is covered before it exists
FACES_BESIDE_THE_API = ("compat", "web")
API_PACKAGE = "multiflexi.server.api"


def _module_of(relative: Path) -> str:
    """``compat/views.py`` -> ``multiflexi.server.compat.views``."""
    parts = relative.with_suffix("").parts
    return ".".join(("multiflexi", "server", *parts)).removesuffix(".__init__")


def face_violations(files: list[tuple[Path, str]]) -> list[str]:
    """Imports of the API package by a file of a face beside it (paths relative to the
    ``multiflexi/server`` folder; relative imports resolved)."""
    found = []
    for relative, source in files:
        if relative.parts[0] not in FACES_BESIDE_THE_API:
            continue
        module = _module_of(relative)
        package = module if relative.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(source, filename=str(relative))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            if any(n == API_PACKAGE or n.startswith(API_PACKAGE + ".") for n in names):
                found.append(f"{relative}:{node.lineno}")
    return found


def server_files() -> list[tuple[Path, str]]:
    import multiflexi.server

    files = []
    for location in multiflexi.server.__path__:
        root = Path(location)
        for path in sorted(root.rglob("*.py")):
            files.append((path.relative_to(root), path.read_text(encoding="utf-8")))
    return files


def test_the_face_rule_finds_an_import_of_the_api():
    files = [
        (Path("web/__init__.py"), "from multiflexi.server.api.common import db\n"),
        (Path("web/jobs.py"), "from ..api import spec\nfrom .. import request\n"),
        (Path("compat/views.py"), "import multiflexi.server.api\n"),
        (Path("compat/x.py"), "from multiflexi.server import api\n"),
        (Path("web/ok.py"), "from multiflexi.server import openapi, request\n"),
        (Path("api/jobs.py"), "from multiflexi.server.api.common import db\n"),
    ]
    assert face_violations(files) == [
        "web/__init__.py:1",
        "web/jobs.py:1",
        "compat/views.py:1",
        "compat/x.py:1",
    ]


def test_no_face_beside_the_api_imports_the_api():
    files = server_files()
    assert any(relative.parts[0] == "compat" for relative, _source in files)
    assert face_violations(files) == []


#: what a page view must not reach for: the query builder and the tables (the core does that)
QUERY_MODULES = ("sqlalchemy", "multiflexi.database")


def web_query_imports(files: list[tuple[Path, str]]) -> list[str]:
    """Imports of SQLAlchemy or the database package by a file of the web UI."""
    found = []
    for relative, source in files:
        if relative.parts[0] != "web" or relative.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(source, filename=str(relative))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == m or n.startswith(m + ".") for n in names for m in QUERY_MODULES):
                found.append(f"{relative}:{node.lineno}")
    return found


def test_the_query_rule_finds_a_page_that_queries_itself():
    files = [
        (Path("web/jobs.py"), "import sqlalchemy as sa\n"),
        (Path("web/x.py"), "from multiflexi.database.tables import jobs\n"),
        (Path("web/ok.py"), "from multiflexi.core import jobviews\n"),
        (Path("api/jobs.py"), "import sqlalchemy as sa\n"),
    ]
    assert web_query_imports(files) == ["web/jobs.py:1", "web/x.py:1"]


def test_the_web_pages_leave_every_query_to_the_core():
    files = server_files()
    assert any(relative.parts[0] == "web" for relative, _source in files)
    assert web_query_imports(files) == []
