"""The DCAT-AP.de licence list of the platform: CKAN's licence register, loaded from schemas/licenses.json."""
from __future__ import annotations

from pathlib import Path

import ckan.model as model

import ckanext.suedwest.schemas

LICENSES_FILE = Path(ckanext.suedwest.schemas.__file__).with_name("licenses.json")


def register():
    return model.Package.get_license_register()


def requires_attribution(license_id: str | None) -> bool:
    """Whether the licence obliges users to name the source (dcatde:licenseAttributionByText is then a MUST)."""
    license = register().get(license_id) if license_id else None
    return bool(license and license._data.get("suedwest_attribution"))


def choices() -> list[dict]:
    """The licences as scheming choices: the URI as value, the German title as label."""
    return [{"value": license.id, "label": license.title} for license in register().values()]
