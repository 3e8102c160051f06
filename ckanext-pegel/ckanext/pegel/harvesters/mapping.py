"""A PEGELONLINE station as a DCAT-AP.de dataset of the schema (schemas/dataset.yaml).

The dataset text is German metadata, written once at harvest time (it is data, not interface text).
Political geocoding and the contributor ID are not set here: the tenant defaults of the dataset schema
fill them from the owning municipality (ckanext-tenant), so they follow a change of owner.

Each dataset has four resources, told apart by the resource field ``pegel_resource``:
``series`` (the live series in the DataStore, marked with ``pegel_station``/``pegel_series`` as
ckanext.pegel.series describes; it also carries the gauge zero and the characteristic values for
warning levels), ``current`` (the current measurement), ``station`` (the station's API document) and
``characteristic_values``. Resources a data steward adds are kept on update.
"""
from __future__ import annotations

import json
import re

from ckan.lib.munge import munge_title_to_name

from ckanext.pegel import series
from ckanext.pegel.pegelonline import Client, water_level
from ckanext.pegel.warning_levels import WARNING_LEVELS_FIELD

ROLE_FIELD = "pegel_resource"
SERIES, CURRENT, STATION, CHARACTERISTIC_VALUES = "series", "current", "station", "characteristic_values"
ROLES = (SERIES, CURRENT, STATION, CHARACTERISTIC_VALUES)
GAUGE_ZERO_FIELD = "pegel_gauge_zero"
CHARACTERISTIC_VALUES_FIELD = "pegel_characteristic_values"
# What the DataStore writes onto the series resource; kept when the harvester updates it.
DATASTORE_FIELDS = ("url_type", "datastore_active")
# What the municipality sets on the series resource (ckanext.pegel.warning_levels); kept as well.
STEWARD_FIELDS = (WARNING_LEVELS_FIELD,)

ENVI = "http://publications.europa.eu/resource/authority/data-theme/ENVI"
DL_ZERO = "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
CONTINUOUS = "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"
NATIONAL_AUTHORITY = "http://purl.org/adms/publishertype/NationalAuthority"
WSV = {"name": "Wasserstraßen- und Schifffahrtsverwaltung des Bundes (WSV)", "type": NATIONAL_AUTHORITY,
       "url": "https://www.pegelonline.wsv.de/"}
# Kept upper case when names are put into title case: "KOBLENZ UP" is the Koblenz "Unterpegel".
UPPER = {"UP", "OP", "UW", "OW", "II", "III", "IV"}


def display_name(name: str) -> str:
    """PEGELONLINE's upper-case names in title case for titles ("SANKT ARNUAL" → "Sankt Arnual")."""
    if name != name.upper():
        return name  # already mixed case (older lists)
    return " ".join(word if word in UPPER else word.title() for word in name.split(" "))


def ideal_name(station: dict) -> str:
    """The URL name a new dataset gets (made unique by the harvester)."""
    return munge_title_to_name(f"pegel {station['shortname']} {station['water']['shortname']}")[:100]


def dataset(station: dict, client: Client, owner_org: str) -> dict:
    """The dataset dict (package_create/package_update input) of a station, without id and name."""
    name, water = display_name(station["longname"]), display_name(station["water"]["longname"])
    where = water + (f", km {_number(station['km'])}" if station["km"] is not None else "")
    level = water_level(station)
    interval = (f"alle {_number(level['equidistance'])} Minuten" if level and level["equidistance"]
                else "laufend")
    notes = (f"Wasserstand am Pegel {name} ({where}) der Wasserstraßen- und Schifffahrtsverwaltung des Bundes"
             + (f", betreut von {station['agency']}" if station["agency"] else "") + ". "
             f"Die Messwerte kommen {interval} aus PEGELONLINE und werden laufend in die Zeitreihe dieses "
             "Datensatzes übernommen (ungeprüfte Rohdaten, Zeitstempel in UTC).")
    area = {"text": f"Pegel {name} ({where})"}
    if station["longitude"] is not None:
        area["centroid"] = json.dumps({"type": "Point", "coordinates": [station["longitude"], station["latitude"]]})
    return {
        "title": f"Pegel {name} ({water})",
        "notes": notes,
        "owner_org": owner_org,
        "theme": [ENVI],
        "tags": [{"name": tag} for tag in ("Pegel", "Wasserstand", _tag(water)) if len(tag) >= 2],
        "license_id": DL_ZERO,
        "publisher": [dict(WSV)],
        "identifier": station["uuid"],
        "frequency": CONTINUOUS,
        "spatial_coverage": [area],
        "resources": resources(station, client),
    }


def resources(station: dict, client: Client) -> list[dict]:
    uuid = station["uuid"]
    level = water_level(station) or {}
    gauge_zero = level.get("gauge_zero")
    described_zero = (f" (Pegelnullpunkt {_number(gauge_zero['value'])} {gauge_zero['unit']})"
                      if gauge_zero and gauge_zero.get("value") is not None else "")
    return [
        {ROLE_FIELD: SERIES, "name": "Wasserstand (Zeitreihe)", "format": "CSV",
         # The table is created right after the dataset; flagging it here saves a second indexing of
         # the dataset by datastore_create (the harvester clears the flag if the table fails).
         "url": "_datastore_only_resource", "url_type": "datastore", "datastore_active": True,
         "description": f"Wasserstand in {level.get('unit') or 'cm'} über dem Pegelnullpunkt{described_zero}, "
                        "ein Wert je Zeitpunkt (UTC). Auch über die DataStore-API abrufbar.",
         series.STATION_FIELD: uuid, series.SERIES_FIELD: series.WATER_LEVEL,
         GAUGE_ZERO_FIELD: json.dumps(gauge_zero, sort_keys=True) if gauge_zero else "",
         CHARACTERISTIC_VALUES_FIELD: json.dumps(
             [{key: value[key] for key in ("shortname", "value", "unit")} for value in
              level.get("characteristic_values", [])], sort_keys=True)},
        {ROLE_FIELD: CURRENT, "name": "Aktueller Wasserstand (JSON)", "format": "JSON",
         "url": client.current_measurement_url(uuid),
         "description": "Letzter Messwert mit Tendenz und Einordnung zwischen MNW und MHW, direkt von PEGELONLINE."},
        {ROLE_FIELD: STATION, "name": "Stammdaten des Pegels (API)", "format": "API",
         "url": client.station_url(uuid),
         "description": "Stammdaten des Pegels und seiner Zeitreihen über die REST-API von PEGELONLINE."},
        {ROLE_FIELD: CHARACTERISTIC_VALUES, "name": "Kennwerte des Wasserstands (JSON)", "format": "JSON",
         "url": client.timeseries_url(uuid),
         "description": "Gewässerkundliche Kennwerte wie MNW, MW und MHW des Pegels, von PEGELONLINE."},
    ]


def merge_resources(new: list[dict], existing: list[dict]) -> list[dict]:
    """The harvested resources onto the existing ones: same ids (the series keeps its DataStore table),
    DataStore flags and the municipality's Meldestufen kept, resources added by people kept after ours."""
    by_role = {resource.get(ROLE_FIELD): resource for resource in existing if resource.get(ROLE_FIELD) in ROLES}
    merged = []
    for resource in new:
        current = by_role.get(resource[ROLE_FIELD])
        if current:
            resource = dict(resource, id=current["id"])
            if resource[ROLE_FIELD] == SERIES:
                resource.update({key: current[key] for key in DATASTORE_FIELDS + STEWARD_FIELDS if key in current})
                resource["url"] = "_datastore_only_resource"  # package_show shows the dump URL instead
        merged.append(resource)
    merged.extend(resource for resource in existing if resource.get(ROLE_FIELD) not in ROLES)
    return merged


def series_resource(package: dict) -> dict | None:
    return next((r for r in package.get("resources", []) if r.get(ROLE_FIELD) == SERIES), None)


def _tag(text: str) -> str:
    """A tag CKAN accepts (letters, digits, space, - _ .; at most 100 characters)."""
    return re.sub(r"[^\w \-.]", "", text).strip()[:100]


def _number(value: float) -> str:
    """German number format without needless decimals: 591.49 → "591,49", 15.0 → "15"."""
    return f"{value:g}".replace(".", ",")
