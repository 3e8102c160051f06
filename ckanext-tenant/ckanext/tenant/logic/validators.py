"""Validators of the organisation (tenant) schema, schemas/organization.yaml."""
import re

import ckan.plugins.toolkit as tk

from ckanext.suedwest.logic.validators import GEOCODING

OFFICIAL_KEY = re.compile(r"^(\d{5}|\d{8})$")


def tenant_official_key(value):
    """Kreisschlüssel (5 digits) or Amtlicher Gemeindeschlüssel (8 digits)."""
    if value and not OFFICIAL_KEY.match(value):
        raise tk.Invalid(tk._("An official key has 5 digits (district) or 8 digits (municipality)"))
    return value


def tenant_geocoding_uri(value):
    if value and not GEOCODING.match(value):
        raise tk.Invalid(tk._("Not a political geocoding URI: {uri}").format(uri=value))
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
