import ast
import itertools
import subprocess
import sys
from pathlib import Path

import multiflexi.core


def test_importing_core_pulls_in_no_web_or_cli_framework():
    code = (
        "import sys, multiflexi.core\n"
        "bad = sorted(m for m in ('flask', 'click', 'multiflexi.server', 'multiflexi.cli',"
        " 'multiflexi.executor') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_settings_and_companies_load_no_cron_crypto_or_mysql_modules():
    # what every command of the CLI and the server loads before its first query; croniter,
    # cryptography and SQLAlchemy's MySQL dialect load where they are first needed
    code = (
        "import sys, multiflexi.core.companies, multiflexi.core.config\n"
        "multiflexi.core.config.load_settings(environ={'DATABASE_URL': 'sqlite://'})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('croniter', 'cryptography')"
        " or m.startswith('sqlalchemy.dialects.mysql') or m == 'multiflexi.core.crypto')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_version_is_read_on_first_use():
    from importlib import metadata

    import multiflexi.core

    assert multiflexi.core.__version__ == metadata.version("multiflexi-core")


# -- the core's own imports: at the top of each module, in one direction -----------------

CORE = Path(multiflexi.core.__file__).resolve().parent
#: (module, what it imports inside a function) -> why it is loaded late; nothing else
#: of multiflexi.core or multiflexi.database may be imported inside a function
LAZY_IMPORTS = {
    ("multiflexi.core.vault", "multiflexi.core.crypto"): (
        "cryptography costs every command start-up time: loaded with the first secret"
    ),
}
#: the modules that assemble a job's environment, each importing those before it only
ENVIRONMENT_ORDER = (
    "multiflexi.core.environment",
    "multiflexi.core.jobenv",
    "multiflexi.core.runtemplates",
    "multiflexi.core.jobs",
    "multiflexi.core.lifecycle",
)


def _core_modules() -> dict[str, ast.Module]:
    modules = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE).with_suffix("").parts
        name = ".".join(("multiflexi", "core", *parts)).removesuffix(".__init__")
        modules[name] = ast.parse(path.read_text(), str(path))
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, known: set[str]) -> set[str]:
    """The modules an import statement loads: ``from pkg import mod`` loads ``pkg.mod``."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module.rsplit(".", node.level)[0]
        base = f"{package}.{base}" if base else package
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}


def _ours(name: str) -> bool:
    return name.startswith(("multiflexi.core", "multiflexi.database"))


def _imports_in_functions(tree: ast.Module, module: str, known: set[str]) -> set[str]:
    found = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found |= {name for name in _imported(node, module, known) if _ours(name)}
    return found


def _top_level_imports(tree: ast.Module, module: str, known: set[str]) -> set[str]:
    """The core modules a module imports when it is imported (not under TYPE_CHECKING)."""
    found = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= {name for name in _imported(node, module, known) if name in known}
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    found.discard(module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _core_modules()
    known = set(modules)
    return {name: _top_level_imports(tree, name, known) for name, tree in modules.items()}


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        for name in graph.get(pending.pop(), ()):
            if name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def test_no_core_module_imports_the_core_inside_a_function():
    modules = _core_modules()
    late = {
        (module, name)
        for module, tree in modules.items()
        for name in _imports_in_functions(tree, module, set(modules))
    }
    assert late - set(LAZY_IMPORTS) == set(), "import these at the top of the module"
    assert set(LAZY_IMPORTS) <= late, "an allow-list entry no module needs any more"


def test_the_core_imports_no_module_that_imports_it_back():
    graph = _graph()
    circles = sorted(name for name in graph if name in _reaches(graph, name))
    assert circles == []


def test_the_environment_is_assembled_from_the_bottom_up():
    graph = _graph()
    for lower, higher in itertools.pairwise(ENVIRONMENT_ORDER):
        assert lower in _reaches(graph, higher), f"{higher} builds on {lower}"
        assert higher not in _reaches(graph, lower), f"{lower} must not import {higher}"


#: imports each module named on its command line with none of ours loaded before it (one
#: interpreter for all, whose modules of multiflexi are forgotten before each), and prints
#: each that fails with its error
_IMPORT_EACH_ALONE = """
import importlib, sys
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("multiflexi.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        print(f"{name}: {type(exc).__name__}: {exc}")
"""


def test_each_core_module_imports_first_without_a_circle():
    # a circle at import time fails only when its module is the first of the circle to be
    # imported: so each module is imported first, with nothing of ours loaded before it
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_ALONE, *sorted(_core_modules())],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == ""
