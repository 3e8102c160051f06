"""Validators of the DCAT-AP.de schema (schemas/dataset.yaml). Messages are English msgids with German
translations in the ckanext-suedwest catalogue.

Several validators look at sibling fields of a repeating subfield or a resource: for a key such as
``("contact", 0, "email")`` the siblings share the prefix ``("contact", 0)``.
"""
from __future__ import annotations

import json
import re
from datetime import datetime

import shapely.geometry
from shapely.errors import GeometryTypeError

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import missing
from ckanext.scheming.helpers import scheming_field_choices
from ckanext.scheming.validation import scheming_validator

from ckanext.suedwest import geometry, harvest, licenses

CONTRIBUTORS = "http://dcat-ap.de/def/contributors/"
GEOCODING = re.compile(r"^http://dcat-ap\.de/def/politicalGeocoding/[A-Za-z]+Key/[0-9]{2,12}$")
PHONE = re.compile(r"^\+?[0-9 ()/.\-]{5,30}$")
GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _value(data, key):
    value = data.get(key)
    return None if value is missing or value in ("", [], None) else value


def suedwest_uri(value):
    """An absolute http(s) address."""
    if value and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value):
        raise tk.Invalid(tk._("Please enter a complete address starting with http:// or https://"))
    return value


def suedwest_phone(value):
    if value and not PHONE.match(value):
        raise tk.Invalid(tk._("Please enter a phone number with digits only, e.g. +49 631 365-0"))
    return value


def suedwest_contributor_id(value):
    if value and not (value.startswith(CONTRIBUTORS) and len(value) > len(CONTRIBUTORS)):
        raise tk.Invalid(tk._("The contributor ID must be a URI starting with {prefix}").format(prefix=CONTRIBUTORS))
    return value


def suedwest_geocoding_uris(value):
    """Each political geocoding URI names a key list and an official key, e.g. .../districtKey/07336.

    Runs after scheming_multiple_text, which stores the list as a JSON string."""
    for uri in (json.loads(value) if isinstance(value, str) and value else value) or []:
        if not GEOCODING.match(uri):
            raise tk.Invalid(tk._("Not a political geocoding URI: {uri}").format(uri=uri))
    return value


def suedwest_geojson(value):
    """A GeoJSON geometry in WGS 84 that ckanext-spatial can index."""
    if not value:
        return value
    try:
        geometry = json.loads(value)
        if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
            raise ValueError
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GeometryTypeError):
        raise tk.Invalid(tk._("Not a valid GeoJSON geometry (Point, LineString or Polygon)"))
    minx, miny, maxx, maxy = shape.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise tk.Invalid(tk._("Coordinates must be longitude and latitude in WGS 84 (EPSG:4326)"))
    if not shape.is_valid:
        raise tk.Invalid(tk._("The geometry is invalid (e.g. a polygon that crosses itself)"))
    return value


def suedwest_bbox(value):
    """A bounding box: an axis-aligned rectangle (after suedwest_geojson)."""
    if value and not geometry.is_box(value):
        raise tk.Invalid(tk._("A bounding box is a rectangle whose sides run north-south and east-west"))
    return value


def suedwest_point(value):
    """A centroid: a GeoJSON Point (after suedwest_geojson)."""
    if value and json.loads(value).get("type") != "Point":
        raise tk.Invalid(tk._("A centroid is a single point (GeoJSON Point)"))
    return value


def suedwest_attribution_required(key, data, errors, context):
    """The attribution text is a MUST when the licence requires attribution.

    On a resource, its own licence and text win; otherwise the dataset's apply. Datasets imported by a
    harvester are exempt: the profile reports the missing text on the harvest object instead."""
    if harvest.is_being_imported(_value(data, ("id",))):
        return
    dataset_license, dataset_text = _value(data, ("license_id",)), _value(data, ("license_attribution_by_text",))
    if len(key) == 1:
        license_id, text = dataset_license, dataset_text
    else:
        own_license = _value(data, key[:-1] + ("license",))
        license_id = own_license or dataset_license
        text = _value(data, key) or (None if own_license else dataset_text)
        if not own_license and not _value(data, key):
            return  # the dataset's licence and text apply; checked on the dataset field
    if licenses.requires_attribution(license_id) and not text:
        errors[key].append(tk._("This licence requires an attribution text (who must be named when the data is used)"))


def suedwest_contact_reachable(key, data, errors, context):
    """A contact point needs an e-mail address or a web page (GovData's convention K01; a phone number is
    welcome in addition but not enough on its own)."""
    prefix = key[:-1]
    given = {field: _value(data, prefix + (field,)) for field in ("name", "email", "url", "phone")}
    if any(given.values()) and not (given["email"] or given["url"]):
        errors[key].append(tk._("Please give an e-mail address or a web page for this contact"))


def suedwest_period_end(key, data, errors, context):
    """The end of a period must not lie before its start."""
    start, end = _value(data, key[:-1] + ("start",)), _value(data, key)
    if start and end:
        try:
            if _as_datetime(end) < _as_datetime(start):
                errors[key].append(tk._("The end lies before the start"))
        except ValueError:
            pass  # dcat_date reports malformed dates


def _as_datetime(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)


@scheming_validator
def suedwest_choices(field, schema):
    """scheming_choices with a message that translates: for fixed choices scheming uses CKAN's one_of,
    which formats the list of values into its message before translating it."""

    def validator(value):
        if value is missing or not value:
            return value
        if value not in {choice["value"] for choice in scheming_field_choices(field)}:
            raise tk.Invalid(tk._('unexpected choice "%s"') % value)
        return value

    return validator


@scheming_validator
def suedwest_guess_format(field, schema):
    """CKAN's if_empty_guess_format, keeping only guesses on the format list: a file the list does not
    know (a Word document, say) leaves the format empty instead of failing the form or a harvest."""
    guess = tk.get_validator("if_empty_guess_format")

    def validator(key, data, errors, context):
        if _value(data, key):
            return
        guess(key, data, errors, context)
        guessed = _value(data, key)
        if guessed:
            code = tk.h.unified_resource_format(guessed)
            data[key] = code if code in {choice["value"] for choice in scheming_field_choices(field)} else ""

    return validator


@scheming_validator
def suedwest_drop_empty_groups(field, schema):
    """Schema-level before-validator: the form always offers one group of each repeating field (publisher,
    contact, areas, periods); groups left entirely empty are dropped instead of stored as empty values."""
    repeating = [f["field_name"] for f in schema["dataset_fields"] if "repeating_subfields" in f]

    def validator(key, data, errors, context):
        for name in repeating:
            keys = [k for k in data if len(k) == 3 and k[0] == name]
            groups = sorted({k[1] for k in keys})
            filled = [i for i in groups if any(_value(data, k) for k in keys if k[1] == i)]
            if filled == groups:
                continue
            values = {(name, position, k[2]): data[k] for position, i in enumerate(filled) for k in keys if k[1] == i}
            for k in keys:
                del data[k]
            data.update(values)

    return validator


def suedwest_geometry_as_area(key, data, errors, context):
    """Schema-level before-validator: an area's ``geom`` (a GeoJSON geometry from API clients, older forms and
    harvested catalogs) becomes the bounding box and centroid the schema stores (see ckanext.suedwest.geometry
    for why); a bbox or centroid given as well wins. navl has already moved ``geom``, a key the schema does not
    know, into the area's ``__extras``."""
    for extras_key in [k for k in data if len(k) == 3 and k[0] == "spatial_coverage" and k[2] == "__extras"]:
        value = data[extras_key].pop("geom", None) if isinstance(data[extras_key], dict) else None
        if not value:
            continue
        geom_key = (*extras_key[:2], "geom")
        try:
            suedwest_geojson(value)
        except tk.Invalid as error:
            errors.setdefault(geom_key, []).append(error.error)
            continue
        for field, converted in geometry.bbox_and_centroid(value).items():
            area_key = (*extras_key[:2], field)
            if not _value(data, area_key):
                data[area_key] = converted
