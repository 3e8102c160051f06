"""The configuration of a PEGELONLINE harvest source, and which municipality owns each station's dataset.

The source URL is the API's base URL (``https://www.pegelonline.wsv.de/webservices/rest-api/v2`` or any
server that answers the same way). The configuration is a JSON object, every key optional::

    {"waters": ["RHEIN", "MOSEL"],          # only stations on these waters ...
     "stations": ["4c7d796a-39f2-..."],     # ... and/or these stations (UUIDs); both given: either matches
     "owner": "landkreis-mayen-koblenz",    # the municipality that owns all datasets, or "by_location":
                                            # the municipality whose area (bbox) holds the station
     "timeout": 30}                         # seconds to wait for the server (ckanext.pegel.http_timeout)

Without "owner" the datasets belong to the harvest source's organisation. With "by_location", stations
outside every municipality's area (or without coordinates) are not harvested.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.pegel import pegelonline

BY_LOCATION = "by_location"
KEYS = ("waters", "stations", "owner", "timeout")
MAX_TIMEOUT = 300


class ConfigError(ValueError):
    """A configuration that cannot be used; the message is for the data steward (translated)."""


@dataclass(frozen=True)
class SourceConfig:
    waters: tuple = ()
    stations: tuple = ()
    owner: str | None = None
    timeout: float | None = None  # None: the site's ckanext.pegel.http_timeout

    def matches(self, record) -> bool:
        """Whether a raw station record passes the waters/stations filter (either one, if both are set)."""
        if not self.waters and not self.stations:
            return True
        return (pegelonline.record_water(record) in self.waters
                or pegelonline.record_uuid(record) in self.stations)

    @property
    def timeout_seconds(self) -> float:
        return self.timeout or tk.config.get("ckanext.pegel.http_timeout") or pegelonline.DEFAULT_TIMEOUT

    def to_json(self) -> str:
        data = {"waters": list(self.waters), "stations": list(self.stations), "owner": self.owner,
                "timeout": self.timeout}
        return json.dumps({key: value for key, value in data.items() if value not in ((), [], None)})


def parse(text: str | None) -> SourceConfig:
    """The configuration of a source (JSON text; empty means all stations, owned by the source's organisation)."""
    if not text or not text.strip():
        return SourceConfig()
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ConfigError(tk._("The configuration is not valid JSON: {error}").format(error=error))
    if not isinstance(data, dict):
        raise ConfigError(tk._("The configuration must be a JSON object, e.g. {example}").format(
            example='{"waters": ["RHEIN"], "owner": "by_location"}'))
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(tk._("Unknown setting {names}; allowed are: {allowed}").format(
            names=", ".join(f'"{name}"' for name in unknown), allowed=", ".join(KEYS)))
    return SourceConfig(waters=_waters(data.get("waters")), stations=_stations(data.get("stations")),
                        owner=_owner(data.get("owner")), timeout=_timeout(data.get("timeout")))


def _names(value, key):
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(tk._('"{key}" must be a list of names').format(key=key))
    return [item.strip() for item in value if item.strip()]


def _waters(value) -> tuple:
    return tuple(sorted({name.upper() for name in _names(value, "waters")}))


def _stations(value) -> tuple:
    names = _names(value, "stations")
    wrong = [name for name in names if not pegelonline.UUID.match(name)]
    if wrong:
        raise ConfigError(tk._('"stations" lists station UUIDs from PEGELONLINE; not a UUID: {values}').format(
            values=", ".join(wrong)))
    return tuple(sorted({name.lower() for name in names}))


def _owner(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(tk._('"owner" is the name of a municipality (organisation) or "by_location"'))
    if value == BY_LOCATION:
        return value
    if organisation(value) is None:
        raise ConfigError(tk._('There is no municipality (organisation) "{name}"').format(name=value))
    return value


def _timeout(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(tk._('"timeout" is a number of seconds between 1 and {maximum}').format(maximum=MAX_TIMEOUT))
    return float(value)


def organisation(name_or_id: str):
    group = model.Group.get(name_or_id)
    if group is None or not group.is_organization or group.state != "active":
        return None
    return group


# Owners ---------------------------------------------------------------------------------------------------------------


class Owners:
    """Decides the owning organisation (id) of each station's dataset for one harvest job."""

    def __init__(self, source_config: SourceConfig, source_owner_org: str | None):
        self.by_location = source_config.owner == BY_LOCATION
        self.areas = _tenant_areas() if self.by_location else []
        self.fixed = None
        if not self.by_location:
            group = organisation(source_config.owner or source_owner_org or "")
            if group is None and source_config.owner:
                raise ConfigError(tk._('There is no municipality (organisation) "{name}"').format(
                    name=source_config.owner))
            if group is None:
                raise ConfigError(tk._("The datasets have no owner: the harvest source belongs to no "
                                       'organisation and its configuration names none ("owner")'))
            self.fixed = group.id

    def owner_for(self, station: dict) -> str | None:
        """The organisation id, or None when the station lies outside every municipality (by_location)."""
        if self.fixed:
            return self.fixed
        lon, lat = station["longitude"], station["latitude"]
        if lon is None:
            return None
        # The smallest area wins: a city inside a district's box belongs to the city.
        inside = [(area, org_id) for (minx, miny, maxx, maxy), area, org_id in self.areas
                  if minx <= lon <= maxx and miny <= lat <= maxy]
        return min(inside)[1] if inside else None


def _tenant_areas():
    areas = []
    query = model.Session.query(model.Group).filter_by(is_organization=True, state="active")
    for group in query:
        box = _bbox(group.extras.get("bbox"))
        if box:
            areas.append((box, (box[2] - box[0]) * (box[3] - box[1]), group.id))
    return areas


def _bbox(value):
    try:
        minx, miny, maxx, maxy = (float(part) for part in (value or "").split(","))
    except ValueError:
        return None
    return (minx, miny, maxx, maxy) if minx < maxx and miny < maxy else None
