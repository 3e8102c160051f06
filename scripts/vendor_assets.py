#!/usr/bin/env python3
"""Vendor the browser libraries (charts, maps) from npm into the CKAN assets: no CDN at run time.

``ckanext-suedwest/package.json`` pins the npm packages (``package-lock.json`` their checksums) and lists,
under ``"vendor"``, which files of each package the assets need. This script installs them with
``npm ci`` and copies those files to ``ckanext-suedwest/ckanext/suedwest/assets/vendor/<package>/``
(the leading ``dist/`` dropped), where ``assets/webassets.yml`` bundles them. The copies are not
committed; ``make setup`` runs this script. Run it again after changing package.json (``npm install``
there first, to update the lock file).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = PROJECT / "ckanext-suedwest"
VENDOR_DIR = PACKAGE_DIR / "ckanext" / "suedwest" / "assets" / "vendor"


def installed_version(package: str) -> str | None:
    manifest = PACKAGE_DIR / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def locked_versions() -> dict[str, str]:
    lock = json.loads((PACKAGE_DIR / "package-lock.json").read_text())
    return {path.removeprefix("node_modules/"): entry["version"]
            for path, entry in lock["packages"].items() if path.startswith("node_modules/")}


def main() -> int:
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    locked = locked_versions()
    if any(installed_version(package) != locked.get(package) for package in manifest["vendor"]):
        if not shutil.which("npm"):
            print("error: npm is needed to vendor the browser libraries (Debian package npm)", file=sys.stderr)
            return 1
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PACKAGE_DIR, check=True)
    for package, files in manifest["vendor"].items():
        source, target = PACKAGE_DIR / "node_modules" / package, VENDOR_DIR / package
        for name in files:
            destination = target / name.removeprefix("dist/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, destination)
        print(f"[vendor] {package} {locked[package]}: {len(files)} files in {target.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
