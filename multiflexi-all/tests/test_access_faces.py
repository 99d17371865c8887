"""No face decides access to an object itself: it loads the object through
multiflexi.core.loaders, which applies the core's access policy.

A face may still ask the core company-level questions (may this caller create in
company X, which companies may it list), but it never checks a role against an
object it read: that check is the loaders', in one place for every face.

It lives in multiflexi-all, the one distribution that installs every face (the
server's own tests run without the CLI).
"""

from __future__ import annotations

import ast
from pathlib import Path

import multiflexi.cli
import multiflexi.server

#: what the loaders do, which no face may do on its own
OBJECT_CHECKS = {"can", "can_read", "can_write", "can_admin"}
REQUIRES = {"require", "require_read", "require_write", "require_admin"}


def face_sources() -> list[Path]:
    roots = [Path(p) for p in (*multiflexi.server.__path__, *multiflexi.cli.__path__)]
    files = sorted(f for root in roots for f in root.rglob("*.py"))
    assert any(f.name == "views.py" and f.parent.name == "compat" for f in files)
    assert len(files) > 20
    return files


def access_decisions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        if not (isinstance(target, ast.Name) and target.id == "access"):
            continue
        name = node.func.attr
        keywords = {k.arg for k in node.keywords}
        if name in OBJECT_CHECKS or (name in REQUIRES and keywords & {"what", "key"}):
            found.append(f"{path.name}:{node.lineno}: access.{name}")
    return found


def test_faces_reach_objects_only_through_the_core_loaders():
    decisions = [hit for path in face_sources() for hit in access_decisions(path)]
    assert decisions == []


def test_every_object_loading_face_module_uses_the_loaders():
    server = Path(next(iter(multiflexi.server.__path__)))
    for name in (
        "api/companies.py",
        "api/run_templates.py",
        "api/jobs.py",
        "api/credentials.py",
        "api/credential_types.py",
        "api/tokens.py",
        "api/users.py",
        "compat/views.py",
    ):
        tree = ast.parse((server / name).read_text(encoding="utf-8"))
        calls = {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "loaders"
        }
        assert calls, name
