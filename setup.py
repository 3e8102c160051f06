"""One distribution for the four extensions of the bundle.

Each extension keeps the usual ``ckanext-<name>/ckanext/<name>`` layout; ``package_dir`` maps
the import names onto those folders so that ``pip install -e .`` at the root installs all four.
Metadata and entry points live in pyproject.toml.
"""
import os

from setuptools import find_namespace_packages, setup

EXTENSIONS = ("suedwest", "tenant", "pegel", "mobility")


def extension_packages():
    packages, package_dir = [], {}
    for name in EXTENSIONS:
        root = f"ckanext-{name}"
        for pkg in find_namespace_packages(root, include=[f"ckanext.{name}", f"ckanext.{name}.*"]):
            packages.append(pkg)
            package_dir[pkg] = os.path.join(root, *pkg.split("."))
    # The scheming YAML sits in the top-level schemas/ folder but is loaded as
    # "ckanext.suedwest.schemas:dataset.yaml", like any extension's schema.
    packages.append("ckanext.suedwest.schemas")
    package_dir["ckanext.suedwest.schemas"] = "schemas"
    return packages, package_dir


packages, package_dir = extension_packages()

setup(
    packages=packages,
    package_dir=package_dir,
    include_package_data=True,
    package_data={"": ["*.yaml", "*.yml", "*.html", "*.js", "*.css", "*.json", "*.po", "*.pot", "*.mo", "*.ttl",
                      "LICENSE"]},  # LICENSE: of the vendored browser libraries
)
