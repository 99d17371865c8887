"""Every cross-package task of the MultiFlexi workspace.

nox -s tests            every distribution's tests, each alone in its own venv
nox -s tests-3.11(dist='core')   one distribution (see `nox -l`)
nox -s lint typecheck   ruff and mypy
nox -s collection       the Ansible collection: ansible-test sanity, unit, integration, roles
nox -s build            sdists, wheels and the Ansible collection into dist/
nox -s install_alone    each wheel alone in a fresh venv, import and --version
nox -s bench [-- NAME]  measurements into bench/results/NAME.json
nox -s up               the whole stack on this machine, with a demo
nox -s test_report      the totals of the tests sessions' reports, skipped tests by reason

`nox` alone runs lint, typecheck, tests, collection, build, install_alone and, last,
test_report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
COLLECTION = ROOT / "multiflexi-ansible-collection"
#: each tests session's JUnit XML report, summed up by the test_report session
REPORTS = ROOT / ".nox" / "test-reports"
#: seconds `nox -s up` waits for the stack to stop after Ctrl-C before killing it (its
#: workers may let a running job finish first); the stack's children die with it anyway
STACK_STOP_TIMEOUT = 120.0

nox.needs_version = ">=2024.3.2"  # session.run(interrupt_timeout=..., terminate_timeout=...)
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "collection",
    "build",
    "install_alone",
    "test_report",
]
nox.options.error_on_missing_interpreters = True

#: distribution -> the sibling distributions it requires directly
SIBLINGS: dict[str, list[str]] = {
    "database": [],
    "core": ["database"],
    "executor": ["core"],
    "server": ["core"],
    "cli": ["core"],
    "all": ["cli", "server", "executor"],
}
#: optional extras installed for a distribution's tests (database drivers, ...)
TEST_EXTRAS: dict[str, list[str]] = {"database": ["postgresql", "mysql"]}
#: console script of each distribution, where it has one
SCRIPTS = {
    "database": "multiflexi-database",
    "executor": "multiflexi-executor",
    "server": "multiflexi-server",
    "cli": "multiflexi-cli",
    "all": "multiflexi",
}
PYTHON = "3.11"


def closure(dist: str) -> list[str]:
    """The sibling distributions `dist` needs, lowest layer first."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        for sibling in SIBLINGS[name]:
            visit(sibling)
        if name not in ordered:
            ordered.append(name)

    visit(dist)
    return ordered[:-1]


def version_of(dist: str) -> str:
    import tomllib

    data = tomllib.loads((ROOT / f"multiflexi-{dist}" / "pyproject.toml").read_text())
    return data["project"]["version"]


def install_local(
    session: nox.Session, dist: str, extras: list[str], *, compile_bytecode: bool = False
) -> None:
    """Install `dist` with its extras, its siblings from this workspace, the rest from PyPI.

    ``compile_bytecode`` does what pip does by default (uv does not): measurements of
    start-up time must not include compiling every module on each run.
    """
    paths = [str(ROOT / f"multiflexi-{s}") for s in closure(dist)]
    spec = str(ROOT / f"multiflexi-{dist}")
    if extras:
        spec = f"{spec}[{','.join(extras)}]"
    if compile_bytecode:
        # as a user's `pip install` has it: compiled, and not editable (uv installs
        # workspace members editable through their [tool.uv.sources], and an editable
        # package is compiled again on every start when bytecode is not written)
        reinstall = [f"--reinstall-package=multiflexi-{s}" for s in (*closure(dist), dist)]
        session.install("--no-sources", *reinstall, *paths, spec, env={"UV_COMPILE_BYTECODE": "1"})
        return
    session.install(*paths, spec)


@nox.session(python=PYTHON)
@nox.parametrize("dist", list(SIBLINGS))
def tests(session: nox.Session, dist: str) -> None:
    """One distribution's tests, with only its declared dependencies and test tools."""
    report = REPORTS / f"{dist}.xml"
    report.unlink(missing_ok=True)  # a run that breaks before pytest leaves no old report
    install_local(session, dist, ["test", *TEST_EXTRAS.get(dist, [])])
    session.chdir(ROOT / f"multiflexi-{dist}")
    session.run("pytest", "tests", f"--junitxml={report}", *session.posargs)


#: the collection's test tools (ansible-core: the range galaxy.yml's requires_ansible admits)
COLLECTION_TOOLS = ["ansible-core>=2.16,<2.21", "ansible-lint>=24,<27", "pytest>=8,<10"]

#: stands in for ansible-test's pip bootstrap script, which it downloads from a host outside
#: PyPI: pip from ensurepip, then the pip it asks for, from the package index (trusting the
#: system's certificates, as ansible-test's venvs see no pip configuration)
PIP_BOOTSTRAP = """\
import ensurepip, os, ssl, subprocess, sys
ensurepip.bootstrap(upgrade=False)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
bundle = ssl.get_default_verify_paths().openssl_cafile
if bundle and os.path.exists(bundle):
    args = ["--cert", bundle, *args]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
"""


@nox.session(python=PYTHON)
def collection(session: nox.Session) -> None:
    """The Ansible collection: `ansible-test sanity`, then its pytest tests (unit tests,
    playbooks against a real `multiflexi up` stack, the roles)."""
    report = REPORTS / "collection.xml"
    report.unlink(missing_ok=True)
    install_local(session, "all", [])
    session.install(*COLLECTION_TOOLS)
    # outside the workspace: in a git work tree ansible-test sees only the files git tracks
    tmp = Path(tempfile.mkdtemp(prefix="mf-collection-"))
    home = tmp / "home"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in ("24_2", "24_0", "25_0", "25_1"):
        (cache / f"get_pip_{version}.py").write_text(PIP_BOOTSTRAP)
    tree = tmp / "ansible_collections" / "multiflexi" / "multiflexi"
    shutil.copytree(
        COLLECTION, tree, ignore=shutil.ignore_patterns("tests/output", "__pycache__", "*.pyc")
    )
    # sanity (mostly installing its tools) runs while pytest does: the two take turns on CPU
    bindir = Path(session.bin)
    log = tmp / "sanity.log"
    env = {**os.environ, "HOME": str(home), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    with open(log, "wb") as handle:
        sanity = subprocess.Popen(
            [str(bindir / "ansible-test"), "sanity", "--python", PYTHON, "--color", "no"],
            cwd=tree,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        session.chdir(COLLECTION)
        session.run("pytest", "tests", f"--junitxml={report}", *session.posargs)
    finally:
        code = sanity.wait()
        said = log.read_text(errors="replace")
        shutil.rmtree(tmp, ignore_errors=True)
    session.log("ansible-test sanity:\n" + said)
    if code:
        session.error(f"ansible-test sanity failed (exit code {code})")


def read_report(path: Path) -> tuple[Counter[str], Counter[str]]:
    """(outcome -> count, skip reason -> count) of one JUnit XML report written by pytest."""
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    root = ET.parse(path).getroot()  # noqa: S314 - a file our own pytest run wrote
    for case in root.iter("testcase"):
        skipped = case.find("skipped")
        if case.find("failure") is not None:
            outcomes["failed"] += 1
        elif case.find("error") is not None:
            outcomes["errors"] += 1
        elif skipped is None:
            outcomes["passed"] += 1
        elif skipped.get("type") == "pytest.xfail":
            outcomes["xfailed"] += 1
        else:
            outcomes["skipped"] += 1
            reasons[skipped.get("message") or "(no reason given)"] += 1
    return outcomes, reasons


@nox.session(venv_backend="none")
def test_report(session: nox.Session) -> None:
    """Totals of the tests sessions' reports, and every skipped test counted by its reason.

    The reports are moved to .nox/test-reports/last/ afterwards, so the next run counts
    only its own.
    """
    found = {dist: REPORTS / f"{dist}.xml" for dist in [*SIBLINGS, "collection"]}
    totals: Counter[str] = Counter()
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for dist, path in found.items():
        if not path.exists():
            session.log(f"{dist:9} no report (its tests session did not run or did not finish)")
            continue
        outcomes, reasons = read_report(path)
        totals.update(outcomes)
        for reason, count in reasons.items():
            by_reason[reason][dist] += count
        session.log(f"{dist:9} " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
    session.log("total     " + (", ".join(f"{n} {k}" for k, n in sorted(totals.items())) or "-"))
    skipped = totals["skipped"]
    session.log(f"skipped tests: {skipped}" + (", by reason:" if skipped else ""))
    ranked = sorted(by_reason.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    for reason, per_dist in ranked:
        where = ", ".join(f"{dist} {n}" for dist, n in sorted(per_dist.items()))
        session.log(f"{sum(per_dist.values()):6}  {reason}  ({where})")
    last = REPORTS / "last"
    last.mkdir(parents=True, exist_ok=True)
    for path in found.values():
        if path.exists():
            path.replace(last / path.name)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting, with the one configuration at the root."""
    session.install("ruff>=0.6,<1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy on every distribution's code."""
    install_local(session, "all", [])
    session.install("mypy>=1.10,<3", "types-PyYAML>=6.0,<7")
    session.run(
        "mypy",
        "multiflexi-database/src/multiflexi/database",
        "multiflexi-core/src/multiflexi/core",
        "multiflexi-cli/src/multiflexi/cli",
        "multiflexi-executor/src/multiflexi/executor",
        "multiflexi-all/src/multiflexi/all",
    )
    session.run("mypy", "multiflexi-server/src/multiflexi/server")


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """sdist and wheel of every distribution, twine-checked, and the collection tarball."""
    session.install("build>=1.2,<2", "twine>=5,<8", "ansible-core>=2.16,<2.21")
    if DIST.exists():
        shutil.rmtree(DIST)
    DIST.mkdir()
    for dist in SIBLINGS:
        session.run(
            "python",
            "-m",
            "build",
            "--installer",
            "uv",
            "--outdir",
            str(DIST),
            str(ROOT / f"multiflexi-{dist}"),
        )
    session.run("twine", "check", "--strict", *[str(p) for p in sorted(DIST.iterdir())])
    session.run(
        "ansible-galaxy",
        "collection",
        "build",
        "--force",
        "--output-path",
        str(DIST),
        str(COLLECTION),
    )


@nox.session(python=PYTHON, venv_backend="none")
def install_alone(session: nox.Session) -> None:
    """Each wheel alone in a fresh venv: siblings from dist/, the rest from the index."""
    wheels = sorted(DIST.glob("multiflexi_*.whl")) if DIST.exists() else []
    if not wheels:
        session.error("no wheels in dist/: run `nox -s build` first")
    tmp = Path(session.create_tmp())
    for dist in SIBLINGS:
        name = f"multiflexi-{dist}"
        venv = tmp / f"alone-{dist}"
        if venv.exists():
            shutil.rmtree(venv)
        session.run("uv", "venv", "--quiet", "--python", PYTHON, str(venv), external=True)
        py = str(venv / "bin" / "python")
        session.run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            py,
            "--find-links",
            str(DIST),
            name,
            external=True,
        )
        session.run(
            py,
            "-c",
            f"import multiflexi.{dist}; print(multiflexi.{dist}.__version__)",
            external=True,
        )
        script = SCRIPTS.get(dist)
        if script:
            out = session.run(str(venv / "bin" / script), "--version", external=True, silent=True)
            expected = f"{script} {version_of(dist)}"
            if not out or out.strip() != expected:
                session.error(f"{script} --version said {out!r}, expected {expected!r}")
            session.log(f"{script} --version: {out.strip()}")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Measurements: `nox -s bench` runs all, `nox -s bench -- NAME` runs one."""
    install_local(session, "all", [], compile_bytecode=True)
    session.install("fakeredis>=2.20,<3", "psycopg[binary]>=3.1,<4")
    session.run(
        "python",
        str(ROOT / "bench" / "run.py"),
        *session.posargs,
        env={"PYTHONPATH": str(ROOT / "bench")},
    )
    for result in sorted((ROOT / "bench" / "results").glob("*.json")):
        data = json.loads(result.read_text())
        session.log(f"{data['name']}: {data['value']} {data['unit']}")


@nox.session(python=PYTHON)
def up(session: nox.Session) -> None:
    """The whole stack on this machine with the demo (multiflexi up --demo)."""
    install_local(session, "all", [])
    args = session.posargs or ["--demo"]
    # Ctrl-C reaches the stack itself from the terminal; nox's SIGTERM a second later is
    # the same request to it, and nox then waits for the orderly stop
    session.run(
        "multiflexi",
        "up",
        *args,
        env={k: v for k, v in os.environ.items()},
        interrupt_timeout=1.0,
        terminate_timeout=STACK_STOP_TIMEOUT,
    )
