"""Validators of the organisation (tenant) schema, schemas/organization.yaml."""
import json
import re

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import missing

from ckanext.suedwest import harvest
from ckanext.suedwest.logic.validators import suedwest_geocoding_uris

OFFICIAL_KEY = re.compile(r"^(\d{5}|\d{8})$")


def tenant_official_key(value):
    """Kreisschlüssel (5 digits) or Amtlicher Gemeindeschlüssel (8 digits)."""
    if value and not OFFICIAL_KEY.match(value):
        raise tk.Invalid(tk._("An official key has 5 digits (district) or 8 digits (municipality)"))
    return value


def tenant_geocoding_uri(value):
    """One political geocoding URI (a dataset may have several)."""
    if value:
        suedwest_geocoding_uris([value])
    return value


def tenant_bbox(value):
    """"min lon,min lat,max lon,max lat" in WGS 84, stored in that form."""
    if not value:
        return value
    try:
        minx, miny, maxx, maxy = (float(part) for part in value.split(","))
    except ValueError:
        raise tk.Invalid(tk._("A bounding box is four numbers: min lon,min lat,max lon,max lat"))
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise tk.Invalid(tk._("A bounding box is four numbers: min lon,min lat,max lon,max lat"))
    return ",".join(f"{number:g}" for number in (minx, miny, maxx, maxy))


def tenant_defaults(key, data, errors, context):
    """Schema-level before-validator of the dataset schema: what the steward leaves empty comes from the
    dataset's municipality (its organisation): publisher, contributor ID, political geocoding and, for a
    dataset without any area, the municipality's extent as spatial coverage. Values given always win;
    datasets harvested from other catalogs keep what their source says. The dataset form shows the same
    values pre-filled (form_defaults)."""
    organization = model.Group.get(_given(data, ("owner_org",)))
    if organization is None or harvest.is_being_imported(_given(data, ("id",))):
        return
    given = {k[0] for k in data if _given(data, k)}
    for name, value in form_defaults(organization).items():
        field = name.split("-")[0]
        if field in given:
            continue
        key = (field,) if name == field else (field, 0, name.split("-")[2])
        data[key] = [value] if field == "political_geocoding_uri" else value


def form_defaults(organization) -> dict:
    """What a dataset of this municipality gets unless the steward says otherwise, by form field name
    (scheming's ``field-index-subfield`` for the repeating groups publisher and spatial_coverage)."""
    extras = organization.extras
    defaults = {
        "publisher-0-name": organization.title,
        "publisher-0-type": tk.config.get("ckanext.suedwest.default_publisher_type"),
        "publisher-0-email": extras.get("contact_email"),
        "publisher-0-url": extras.get("website"),
        "contributor_id": extras.get("contributor_id"),
        "political_geocoding_level_uri": extras.get("political_geocoding_level_uri"),
        "political_geocoding_uri": extras.get("political_geocoding_uri"),
    }
    if extras.get("bbox"):
        defaults["spatial_coverage-0-text"] = organization.title
        defaults["spatial_coverage-0-bbox"] = json.dumps(_polygon(extras["bbox"]))
    return {name: value for name, value in defaults.items() if value}


def _given(data, key):
    value = data.get(key)
    return None if value is missing or value in ("", [], None, "[]") else value


def _polygon(bbox):
    minx, miny, maxx, maxy = (float(part) for part in bbox.split(","))
    return {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}
