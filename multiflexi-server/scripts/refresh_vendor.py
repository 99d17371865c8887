#!/usr/bin/env python3
"""Refresh the web UI's third-party assets from their npm packages.

The files are committed under ``src/multiflexi/server/web/static/web/vendor/`` and
shipped in the wheel: nothing is downloaded when the package is built, installed,
tested or run. Run this script (it needs ``npm``) only to change a version, then
commit what it wrote: each asset, its licence text, and ``VENDOR.md`` with the
package, version, licence and sha256 of every file.

    python3 multiflexi-server/scripts/refresh_vendor.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: package -> (version, {file inside the package: name under vendor/}, licence file)
ASSETS: dict[str, tuple[str, dict[str, str], str]] = {
    "htmx.org": ("2.0.11", {"dist/htmx.min.js": "htmx.min.js"}, "LICENSE"),
    "ansi_up": ("6.0.6", {"ansi_up.js": "ansi_up.js"}, "LICENSE"),
}
#: test-only assets (not shipped in the wheel): the accessibility checker of the browser tests
TEST_ASSETS: dict[str, tuple[str, dict[str, str], str]] = {
    "axe-core": ("4.14.1", {"axe.min.js": "axe.min.js"}, "LICENSE"),
}

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src/multiflexi/server/web/static/web/vendor"
TEST_VENDOR = ROOT / "tests/vendor"


def _fetch(package: str, version: str, into: Path) -> Path:
    """Unpack ``package@version`` from the npm registry; returns its folder."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / json.loads(out.stdout)[0]["filename"]
    with tarfile.open(tarball) as archive:
        archive.extractall(into / package, filter="data")
    return into / package / "package"


def _refresh(assets: dict[str, tuple[str, dict[str, str], str]], target: Path, title: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, files, licence_file) in assets.items():
            folder = _fetch(package, version, Path(tmp))
            meta = json.loads((folder / "package.json").read_text("utf-8"))
            if meta["version"] != version:
                sys.exit(f"{package}: npm gave {meta['version']}, wanted {version}")
            for inside, name in files.items():
                shutil.copyfile(folder / inside, target / name)
                digest = hashlib.sha256((target / name).read_bytes()).hexdigest()
                rows.append(
                    f"| `{name}` | {package} | {version} | {meta['license']} | `{digest}` |"
                )
            shutil.copyfile(folder / licence_file, target / f"LICENSE.{package}")
    (target / "VENDOR.md").write_text(
        f"# {title}\n\n"
        "Copied from the npm packages by `multiflexi-server/scripts/refresh_vendor.py`; "
        "each package's licence is in `LICENSE.<package>`. Do not edit these files: change "
        "the version in the script and run it again.\n\n"
        "| File | npm package | Version | Licence | sha256 |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n",
        "utf-8",
    )


def main() -> None:
    _refresh(ASSETS, VENDOR, "Third-party assets of the web UI")
    _refresh(TEST_ASSETS, TEST_VENDOR, "Third-party assets of the browser tests")
    print(f"wrote {VENDOR} and {TEST_VENDOR}")


if __name__ == "__main__":
    main()
