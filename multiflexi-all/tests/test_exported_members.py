"""The faces use the core only through what each core module exports (its ``__all__``).

Read from the installed sources of the server, the CLI, the executor and
multiflexi-all: ``from multiflexi.core.X import name`` and ``X.name`` (after
``from multiflexi.core import X``) must name something in ``X.__all__``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

FACES = ("server", "cli", "executor", "all")
CORE = "multiflexi.core"


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


class _Uses(ast.NodeVisitor):
    """The core names a file uses: (core module, name, line)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, int]] = []
        self.aliases: dict[str, str] = {}  # local name -> core module
        self.shadowed: list[set[str]] = []  # names rebound in the enclosing functions

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and (module == CORE or module.startswith(CORE + ".")):
            for alias in node.names:
                if _is_module(f"{module}.{alias.name}"):
                    self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
                else:
                    self.found.append((module, alias.name, node.lineno))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname and alias.name.startswith(CORE + "."):
                self.aliases[alias.asname] = alias.name

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
        self.shadowed.append(names)
        self.generic_visit(node)
        self.shadowed.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if (
            isinstance(value, ast.Name)
            and value.id in self.aliases
            and not any(value.id in names for names in self.shadowed)
        ):
            self.found.append((self.aliases[value.id], node.attr, node.lineno))
        self.generic_visit(node)


def outside_exports(files: list[tuple[str, str]]) -> list[str]:
    """Each use of a core name that its module does not export."""
    wrong = []
    for filename, source in files:
        uses = _Uses()
        uses.visit(ast.parse(source, filename=filename))
        for module, name, line in uses.found:
            exported = getattr(importlib.import_module(module), "__all__", None)
            if exported is None or name not in exported:
                wrong.append(f"{filename}:{line}: {module}.{name}")
    return wrong


def face_sources(face: str) -> list[tuple[str, str]]:
    package = importlib.import_module(f"multiflexi.{face}")
    return [
        (str(path), path.read_text(encoding="utf-8"))
        for location in package.__path__
        for path in sorted(Path(location).rglob("*.py"))
    ]


def test_the_rule_finds_a_name_outside_all():
    source = (
        "from multiflexi.core import jobs, queue\n"
        "from multiflexi.core.jobs import launch, _seal\n"
        "jobs.get(1)\n"
        "jobs.JOB_TABLE_INTERNALS\n"
        "def run(queue):\n"
        "    queue.enqueue_dependents()\n"
        "queue.no_such_name\n"
    )
    assert outside_exports([("x.py", source)]) == [
        "x.py:2: multiflexi.core.jobs._seal",
        "x.py:4: multiflexi.core.jobs.JOB_TABLE_INTERNALS",
        "x.py:7: multiflexi.core.queue.no_such_name",
    ]


@pytest.mark.parametrize("face", FACES)
def test_faces_use_only_what_the_core_exports(face):
    files = face_sources(face)
    assert files
    assert outside_exports(files) == []
