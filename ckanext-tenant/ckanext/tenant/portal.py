"""What a municipality's page (/kommune/<name>) and the overview (/kommune) show.

Everything comes from CKAN actions called as the visitor, so permissions hold: counts, themes and the latest
datasets include a private dataset only for someone package_search shows it to (the municipality's members and
sysadmins).
"""
from __future__ import annotations

import re

import ckan.plugins.toolkit as tk
from ckanext.scheming.helpers import scheming_choices_label, scheming_field_by_name, scheming_get_dataset_schema

from ckanext.suedwest.search import THEME_FACET
from ckanext.tenant import tenants

_MUNICIPALITY_KEY = re.compile(r"^\d{8}$")


def tenant_page(name: str) -> dict:
    """The page of one municipality: the organisation, the number of datasets the visitor may see, those
    datasets grouped by EU data theme and the most recently changed ones. Raises tk.ObjectNotFound for a name
    that is no active organisation the visitor may see."""
    try:
        organization = tk.get_action("organization_show")(
            {}, {"id": name, "include_datasets": False, "include_dataset_count": False, "include_users": False,
             "include_followers": False})
    except tk.NotAuthorized:
        raise tk.ObjectNotFound(name)
    if organization.get("state") != "active" or not organization.get("is_organization"):
        raise tk.ObjectNotFound(name)
    result = tk.get_action("package_search")({}, {
        "fq": f'owner_org:"{organization["id"]}"',
        "include_private": True,
        "rows": tk.config.get("ckanext.tenant.latest_datasets"),
        "sort": "metadata_modified desc",
        "facet.field": [THEME_FACET],
        "facet.limit": -1,
        "facet.mincount": 1,
    })
    return {
        "tenant": organization,
        "official_key_label": official_key_label(organization.get("official_key")),
        "dataset_count": result["count"],
        "themes": theme_groups(result["facets"].get(THEME_FACET, {})),
        "latest": result["results"],
    }


def tenant_overview() -> list[dict]:
    """The platform's municipalities (organisations with an official key, as in `ckan tenant list`), by title,
    each with the number of datasets the visitor may see."""
    organizations = tenants.all_organizations(
        {}, {"all_fields": True, "include_extras": True, "include_dataset_count": False})
    counts = tk.get_action("package_search")({}, {
        "include_private": True, "rows": 0, "facet.field": ["owner_org"], "facet.limit": -1,
    })["facets"].get("owner_org", {})
    municipalities = [dict(org, dataset_count=counts.get(org["id"], 0), official_key_label=official_key_label(
        org.get("official_key"))) for org in organizations if org.get("official_key")]
    return sorted(municipalities, key=lambda org: org["title"])


def theme_groups(facet: dict[str, int]) -> list[dict]:
    """Per EU data theme (the "Kategorie" facet of ckanext-suedwest, one value per theme): its German label,
    the number of datasets, and the search parameters that list them; most datasets first."""
    labels = _theme_labels()
    groups = [{"uri": uri, "label": labels.get(uri) or uri.rstrip("/").rsplit("/", 1)[-1], "count": count,
               "search": {THEME_FACET: uri}} for uri, count in facet.items()]
    return sorted(groups, key=lambda group: (-group["count"], group["label"]))


def _theme_labels() -> dict[str, str]:
    schema = scheming_get_dataset_schema("dataset") or {}
    field = scheming_field_by_name(schema.get("dataset_fields", []), "theme") or {}
    choices = field.get("choices", [])
    return {choice["value"]: scheming_choices_label(choices, choice["value"]) for choice in choices}


def official_key_label(key: str | None) -> str:
    """What the official key is called: an 8-digit key is a municipality's AGS, a 5-digit one a district's."""
    if not key:
        return ""
    if _MUNICIPALITY_KEY.match(key):
        return tk._("Official municipality key (AGS)")
    return tk._("District key")
