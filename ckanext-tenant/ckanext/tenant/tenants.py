"""The tenants file (config/tenants.yaml) and its synchronisation into CKAN organisations.

The whole file is read and checked before anything is written, so a mistake anywhere leaves every
organisation as it was; errors name the line. Synchronising is idempotent: an organisation that already
matches its entry is left alone. Organisations of tenants that are no longer in the file are reported,
never deleted (they hold the municipality's datasets).

A tenant's ``logo`` is an image file (a path relative to the tenants file), uploaded with CKAN's uploader as the
organisation's image, or an https address, set as its image_url. A file is uploaded again only when its content
changed: the uploaded name carries a digest of the content. Without ``logo`` the organisation's image is left as
it is (a steward may have uploaded one in the web form).
"""
from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

import magic
from werkzeug.datastructures import FileStorage

import ckan.model as model
import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.lib import uploader

from ckanext.suedwest import yaml_entries as entries
from ckanext.suedwest.yaml_entries import EntriesFileError, SyncReport

FIELDS = {
    "name": True, "title": True, "kind": True, "federal_state": True, "official_key": True,
    "political_geocoding_level_uri": True, "political_geocoding_uri": True, "contributor_id": False,
    "website": False, "contact_email": False, "bbox": False, "description": False, "image_url": False,
    "logo": False,
}  # field -> required
LOGO_DIGEST_LENGTH = 16


def tenants_file() -> Path:
    return Path(tk.config.get("ckanext.tenant.tenants_file"))


def load(path: Path) -> list[dict]:
    """The tenants of the file as organisation dicts; raises EntriesFileError naming the line."""
    return entries.load_named_entries(path, "tenants", "ckanext.tenant.tenants_file", "municipalities", "tenant",
                                      _tenant)


def _tenant(node, path) -> dict:
    tenant = {}
    for key, value, value_line in entries.entry_items(node, path, FIELDS, "tenant"):
        if key == "bbox" and value is not None:
            if not (isinstance(value, list) and len(value) == 4):
                raise EntriesFileError(f"{path}, line {value_line}: bbox is [min lon, min lat, max lon, max lat]")
            value = ",".join(str(number) for number in value)
        tenant[key] = "" if value is None else str(value)
        if key == "logo" and tenant[key]:
            tenant[key] = _logo(tenant[key], path, value_line)
    missing = [key for key, required in FIELDS.items() if required and not tenant.get(key)]
    if missing:
        raise EntriesFileError(f"{path}, line {entries.line(node)}: tenant '{tenant.get('name', '?')}' lacks "
                               f"{', '.join(missing)}")
    if tenant.get("logo") and tenant.get("image_url"):
        raise EntriesFileError(f"{path}, line {entries.line(node)}: tenant '{tenant['name']}' has both logo and "
                               f"image_url; give only logo")
    if tenant.get("logo", "").startswith("https://"):
        tenant["image_url"] = tenant.pop("logo")  # an address is the organisation's image_url as it is
    return tenant


def _logo(value: str, path: Path, line: int) -> str:
    """An https address as it is, or the absolute path of a logo file after checking that CKAN's uploader will
    take it: an existing file of an image type the organisation upload allows (ckan.upload.group.mimetypes),
    no larger than ckan.max_image_size."""
    where = f"{path}, line {line}: logo"
    if "://" in value:
        if not value.startswith("https://") or len(value) <= len("https://"):
            raise EntriesFileError(f"{where} '{value}': an address must start with https://")
        return value
    file = (path.parent / value).resolve()
    if not file.is_file():
        raise EntriesFileError(f"{where}: file not found: {file}")
    if not tk.config.get("ckan.storage_path"):
        raise EntriesFileError(f"{where}: uploading a file needs ckan.storage_path in the CKAN config "
                               f"(or give an https address)")
    allowed = tk.config.get("ckan.upload.group.mimetypes") or []
    sniffed = magic.from_file(str(file), mime=True)
    named = mimetypes.guess_type(file.name)[0]
    if "*" not in allowed and (sniffed not in allowed or named not in allowed):
        raise EntriesFileError(f"{where} {file.name} is {sniffed}; allowed are {', '.join(allowed) or 'none'} "
                               f"(ckan.upload.group.mimetypes), with a matching file name extension")
    limit = uploader.get_max_image_size()
    size = file.stat().st_size
    if size > limit * uploader.MB:
        raise EntriesFileError(f"{where} {file.name} has {size / uploader.MB:.1f} MB, more than "
                               f"ckan.max_image_size ({limit} MB)")
    return str(file)


def validate(tenants: list[dict], path: Path) -> None:
    """Check every tenant against the organisation schema (ckanext-scheming) before anything is written."""
    plugin = plugins.get_plugin("scheming_organizations")
    context = {"user": _site_user(), "model": model, "session": model.Session}
    for tenant in tenants:
        organization = {key: value for key, value in tenant.items() if key != "logo"}  # checked by load()
        _, errors = plugin.validate(context, dict(organization, type="organization"), {}, "organization_create")
        errors = {key: value for key, value in errors.items() if value and key != "name"}  # name: may exist
        if errors:
            raise EntriesFileError(f"{path}: tenant '{tenant['name']}': {_describe(errors)}")


def _describe(errors):
    return "; ".join(f"{key}: {' '.join(map(str, value))}" for key, value in errors.items())


def all_organizations(context: dict, data_dict: dict) -> list[dict]:
    """Every organisation ``organization_list`` gives for ``data_dict``, in as many calls as it takes: with
    ``all_fields`` CKAN returns at most ``ckan.group_and_organization_list_all_fields_max`` (25) per call."""
    organizations: list[dict] = []
    while True:
        batch = tk.get_action("organization_list")(dict(context), dict(data_dict, offset=len(organizations)))
        if not batch:
            return organizations
        organizations.extend(batch)


def _site_user():
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def sync(tenants: list[dict]) -> SyncReport:
    """Create or update one organisation per tenant; report tenant organisations not in the file."""
    report = SyncReport()
    user = _site_user()
    existing = {org["name"]: org for org in all_organizations(
        {"user": user}, {"all_fields": True, "include_extras": True})}
    for tenant in tenants:
        tenant = dict(tenant)
        logo = tenant.pop("logo", "")
        current = existing.get(tenant["name"])
        upload = _logo_upload(logo, current)
        try:
            if current is None:
                tk.get_action("organization_create")({"user": user}, dict(tenant, **upload))
                report.created.append(tenant["name"])
            elif upload or any(str(current.get(key) or "") != value for key, value in tenant.items()):
                tk.get_action("organization_patch")({"user": user}, dict(tenant, **upload, id=current["id"]))
                report.updated.append(tenant["name"])
            else:
                report.unchanged.append(tenant["name"])
        finally:
            if upload:
                upload["image_upload"].close()
    names = {tenant["name"] for tenant in tenants}
    report.not_in_file = sorted(name for name, org in existing.items()
                                if org.get("official_key") and name not in names)
    return report


def _logo_upload(logo: str, current: dict | None) -> dict:
    """The image_upload for a logo file whose content the organisation does not show yet, else nothing."""
    if not logo:
        return {}
    file = Path(logo)
    content = file.read_bytes()
    name = f"logo-{hashlib.sha256(content).hexdigest()[:LOGO_DIGEST_LENGTH]}{file.suffix.lower()}"
    if current and str(current.get("image_url") or "").endswith(name):
        return {}  # the uploader prefixes a timestamp: the same digest means the same picture
    stream = file.open("rb")
    return {"image_upload": FileStorage(stream=stream, filename=name,
                                        content_type=mimetypes.guess_type(file.name)[0])}


def add_user(user_name: str, tenant_name: str, role: str) -> None:
    tk.get_action("organization_member_create")(
        {"user": _site_user()}, {"id": tenant_name, "username": user_name, "role": role})
