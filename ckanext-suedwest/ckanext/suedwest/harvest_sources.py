"""The harvest-source catalogue (harvesters/sources.yaml) and its synchronisation into ckanext-harvest sources.

Sources are reviewed like code: which feed, which harvester, which municipality owns the source, how often it
runs and with which configuration. Like the tenants file, the whole catalogue is read and checked (with
ckanext-harvest's own source schema, which asks the harvester to check its configuration) before anything is
written, and errors name the line. Synchronising is idempotent; a source that is no longer in the catalogue is
reported, never deleted (its datasets and job history stay).
"""
from __future__ import annotations

import json
from pathlib import Path

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import validate as navl_validate

from ckanext.suedwest import yaml_entries as entries
from ckanext.suedwest.yaml_entries import EntriesFileError, SyncReport

FIELDS = {"name": True, "title": True, "type": True, "url": True, "organization": True, "frequency": False,
          "description": False, "config": False}  # key -> required
DEFAULT_FREQUENCY = "MANUAL"


def sources_file() -> Path:
    return Path(tk.config["ckanext.suedwest.harvest_sources_file"])


def load(path: Path) -> list[dict]:
    """The sources of the catalogue as harvest source dicts (with ``_line``); raises EntriesFileError."""
    return entries.load_named_entries(path, "sources", "ckanext.suedwest.harvest_sources_file", "harvest sources",
                                      "source", _source)


def _source(node, path) -> dict:
    entry = {key: value for key, value, _ in entries.entry_items(node, path, FIELDS, "source")}
    missing = [key for key, required in FIELDS.items() if required and not entry.get(key)]
    if missing:
        raise EntriesFileError(f"{path}, line {entries.line(node)}: source '{entry.get('name', '?')}' lacks "
                               f"{', '.join(missing)}")
    config = entry.get("config")
    if config is not None and not isinstance(config, (dict, str)):
        raise EntriesFileError(f"{path}, line {entries.line(node)}: source '{entry['name']}': config is a mapping")
    return {
        "_line": entries.line(node),
        "name": str(entry["name"]), "title": str(entry["title"]), "source_type": str(entry["type"]),
        "url": str(entry["url"]), "notes": str(entry.get("description") or "").strip(),
        "frequency": str(entry.get("frequency") or DEFAULT_FREQUENCY).upper(),
        "organization": str(entry["organization"]),
        "config": _config_text(config),
    }


def _config_text(config) -> str:
    """The harvest source's config as ckanext-harvest stores it: JSON text (canonical, so that comparing works)."""
    if config is None or config == "":
        return ""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return config  # the harvester's validation reports it
    return json.dumps(config, ensure_ascii=False, sort_keys=True)


def validate(sources: list[dict], path: Path) -> None:
    """Check every source with ckanext-harvest's schema (URL, type, frequency, the harvester's config check)."""
    from ckanext.harvest.logic.schema import (
        harvest_source_create_package_schema, harvest_source_update_package_schema)

    context = {"user": _site_user(), "model": model, "session": model.Session}
    for source in sources:
        where = f"{path}, line {source['_line']}: source '{source['name']}'"
        organization = _organization(source["organization"])
        if organization is None:
            raise EntriesFileError(f"{where}: no organisation '{source['organization']}'")
        data = dict(_payload(source, organization), type="harvest")
        existing = model.Package.get(source["name"])
        if existing is not None and existing.type == "harvest":  # checked as an update: name and URL are its own
            data["id"] = existing.id
            schema, checked = harvest_source_update_package_schema(), dict(context, package=existing)
        else:
            schema, checked = harvest_source_create_package_schema(), dict(context)
        _, errors = navl_validate(data, schema, checked)
        errors = {key: value for key, value in errors.items() if value}
        if errors:
            raise EntriesFileError(f"{where}: " + "; ".join(
                f"{key}: {' '.join(map(str, value))}" for key, value in errors.items()))


def _organization(name: str):
    group = model.Group.get(name)
    return group if group is not None and group.is_organization and group.state == "active" else None


def _payload(source: dict, organization) -> dict:
    return {"name": source["name"], "title": source["title"], "url": source["url"],
            "source_type": source["source_type"], "notes": source["notes"], "frequency": source["frequency"],
            "config": source["config"], "owner_org": organization.id}


def _same(key: str, stored, wanted) -> bool:
    """Whether a stored field matches the catalogue; configs compare as JSON (harvesters normalise them)."""
    if key == "config" and stored and wanted:
        try:
            return json.loads(stored) == json.loads(wanted)
        except ValueError:
            pass
    return (stored or None) == (wanted or None)


def _site_user() -> str:
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def sync(sources: list[dict]) -> SyncReport:
    """Create or update one harvest source per entry; report sources of the site that are not in the catalogue."""
    report = SyncReport()
    user = _site_user()
    for source in sources:
        payload = _payload(source, _organization(source["organization"]))
        try:
            current = tk.get_action("harvest_source_show")({"user": user}, {"id": source["name"]})
        except tk.ObjectNotFound:
            tk.get_action("harvest_source_create")({"user": user}, payload)
            report.created.append(source["name"])
            continue
        if current.get("state") != "active" or any(
                not _same(key, current.get(key), value) for key, value in payload.items()):
            tk.get_action("harvest_source_update")({"user": user}, dict(payload, id=current["id"], state="active"))
            report.updated.append(source["name"])
        else:
            report.unchanged.append(source["name"])
    names = {source["name"] for source in sources}
    existing = model.Session.query(model.Package.name).filter(
        model.Package.type == "harvest", model.Package.state == "active")
    report.not_in_file = sorted(name for (name,) in existing if name not in names)
    return report
