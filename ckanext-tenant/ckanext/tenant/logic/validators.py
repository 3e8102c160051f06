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
    dataset's municipality (its organisation): contributor ID, political geocoding and, for a dataset
    without any area, the municipality's extent as spatial coverage. Values given always win; datasets
    harvested from other catalogs keep what their source says."""
    organization = model.Group.get(_given(data, ("owner_org",)))
    if organization is None or harvest.is_being_imported(_given(data, ("id",))):
        return
    extras = organization.extras
    for field in ("contributor_id", "political_geocoding_level_uri"):
        if not _given(data, (field,)) and extras.get(field):
            data[(field,)] = extras[field]
    if not _given(data, ("political_geocoding_uri",)) and extras.get("political_geocoding_uri"):
        data[("political_geocoding_uri",)] = [extras["political_geocoding_uri"]]
    has_area = any(_given(data, k) for k in data if k[0] == "spatial_coverage")
    if not has_area and extras.get("bbox"):
        data[("spatial_coverage", 0, "text")] = organization.title
        data[("spatial_coverage", 0, "bbox")] = json.dumps(_polygon(extras["bbox"]))


def _given(data, key):
    value = data.get(key)
    return None if value is missing or value in ("", [], None, "[]") else value


def _polygon(bbox):
    minx, miny, maxx, maxy = (float(part) for part in bbox.split(","))
    return {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}
