"""Client for PEGELONLINE's REST API v2 (or any server that answers the same way) and its station format.

Only the few requests the harvester and the poller need: the station list (``stations.json``), filtered by
waters or station UUIDs, with the timeseries, their characteristic values or the current measurement.
Servers may ignore query parameters (a static mirror does), so callers filter the answer again.

Every problem with an answer is raised as :class:`FeedError` with a ``reason`` the harvester turns into a
German message for the harvest job; ``str()`` of the error is an English line for logs.
A station record that does not have the expected shape raises :class:`StationError` from
:func:`parse_station`, so that one broken record never stops the others.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Iterable
from urllib.parse import urlencode

import requests

DEFAULT_TIMEOUT = 30
USER_AGENT = "ckanext-pegel (Suedwest-Cluster open data platform)"
WATER_LEVEL = "W"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Long id lists make long URLs; PEGELONLINE has ~700 stations, so a few requests at most.
IDS_PER_REQUEST = 80


class FeedError(Exception):
    """The server's answer could not be used.

    ``reason`` is one of ``timeout``, ``connection``, ``status``, ``json``, ``shape``.
    """

    def __init__(self, reason: str, url: str, detail: str = ""):
        self.reason, self.url, self.detail = reason, url, detail
        super().__init__(f"{reason}: {url}" + (f" ({detail})" if detail else ""))


class StationError(ValueError):
    """A station record without the fields a dataset needs, or with values of the wrong type.

    ``field`` names the offending field, ``problem`` says what is wrong (English, for the message
    templates of the harvester).
    """

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


class Client:
    """Requests against one PEGELONLINE-compatible base URL (``.../webservices/rest-api/v2``)."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)

    # URLs of a station's documents (also published as resource URLs)

    def station_url(self, uuid: str) -> str:
        return f"{self.base_url}/stations/{uuid}.json?" + urlencode({"includeTimeseries": "true"})

    def timeseries_url(self, uuid: str, series: str = WATER_LEVEL) -> str:
        return f"{self.base_url}/stations/{uuid}/{series}.json?" + urlencode({"includeCharacteristicValues": "true"})

    def current_measurement_url(self, uuid: str, series: str = WATER_LEVEL) -> str:
        return f"{self.base_url}/stations/{uuid}/{series}/currentmeasurement.json"

    # Requests

    def stations(self, waters: Iterable[str] = (), ids: Iterable[str] = (), *, series: str = WATER_LEVEL,
                 characteristic_values: bool = False, current_measurement: bool = False) -> list[dict]:
        """The raw station records of ``stations.json`` (with their timeseries), one request per group of ids.

        ``waters`` and ``ids`` are sent as the API's filters; the answer is not filtered here.
        """
        params = {"timeseries": series, "includeTimeseries": "true"}
        if characteristic_values:
            params["includeCharacteristicValues"] = "true"
        if current_measurement:
            params["includeCurrentMeasurement"] = "true"
        if waters:
            params["waters"] = ",".join(waters)
        ids = list(ids)
        if not ids:
            return self._list(f"{self.base_url}/stations.json?" + urlencode(params))
        records = []
        for start in range(0, len(ids), IDS_PER_REQUEST):
            chunk = dict(params, ids=",".join(ids[start:start + IDS_PER_REQUEST]))
            records.extend(self._list(f"{self.base_url}/stations.json?" + urlencode(chunk)))
        return records

    def current_measurement(self, uuid: str, series: str = WATER_LEVEL) -> dict:
        """``{timestamp, value, trend, stateMnwMhw, stateNswHsw}`` of one timeseries."""
        url = self.current_measurement_url(uuid, series)
        payload = self._json(url)
        if not isinstance(payload, dict):
            raise FeedError("shape", url, type(payload).__name__)
        return payload

    def _list(self, url: str) -> list:
        payload = self._json(url)
        if not isinstance(payload, list):
            raise FeedError("shape", url, type(payload).__name__)
        return payload

    def _json(self, url: str) -> Any:
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.Timeout as error:
            raise FeedError("timeout", url, str(error)) from error
        except requests.RequestException as error:
            raise FeedError("connection", url, str(error)) from error
        if response.status_code != 200:
            raise FeedError("status", url, str(response.status_code))
        try:
            return response.json()
        except ValueError as error:
            raise FeedError("json", url, str(error)[:200]) from error


# Station records -----------------------------------------------------------------------------------------------------


def record_uuid(record: Any) -> str | None:
    """The station UUID of a raw record (lower case), or None if it has none that can identify it."""
    if isinstance(record, dict) and isinstance(record.get("uuid"), str) and UUID.match(record["uuid"].strip()):
        return record["uuid"].strip().lower()
    return None


def record_water(record: Any) -> str | None:
    """The water's short name of a raw record (upper case), for filtering before a record is parsed."""
    water = record.get("water") if isinstance(record, dict) else None
    if isinstance(water, dict) and isinstance(water.get("shortname"), str):
        return water["shortname"].strip().upper()
    return None


def parse_station(record: Any) -> dict:
    """The station's metadata as a plain, canonical dict (what a dataset is made of).

    Current measurements are left out on purpose: they change every few minutes, the station does not.
    Raises StationError for a record that cannot become a dataset.
    """
    if not isinstance(record, dict):
        raise StationError("record", "not an object")
    uuid = record_uuid(record)
    if uuid is None:
        raise StationError("uuid", "missing or not a UUID")
    shortname = _text(record, "shortname")
    longname = _text(record, "longname") or shortname
    if not longname:
        raise StationError("longname", "missing")
    water = record.get("water")
    if not isinstance(water, dict) or not _text(water, "shortname", "water"):
        raise StationError("water", "missing")
    longitude, latitude = _number(record, "longitude"), _number(record, "latitude")
    if (longitude is None) != (latitude is None):
        raise StationError("longitude" if longitude is None else "latitude", "missing")
    if longitude is not None and not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise StationError("longitude", "outside WGS 84")
    timeseries = record.get("timeseries")
    if timeseries is not None and not isinstance(timeseries, list):
        raise StationError("timeseries", "not a list")
    return {
        "uuid": uuid,
        "number": _text(record, "number"),
        "shortname": shortname or longname,
        "longname": longname,
        "km": _number(record, "km"),
        "agency": _text(record, "agency"),
        "longitude": longitude,
        "latitude": latitude,
        "water": {"shortname": _text(water, "shortname", "water").upper(),
                  "longname": _text(water, "longname", "water") or _text(water, "shortname", "water")},
        # None: the server did not say which series the station has (an old or reduced station list)
        "timeseries": None if timeseries is None else [_timeseries(item, index) for index, item in enumerate(timeseries)],
    }


def water_level(station: dict) -> dict | None:
    """The station's water level series (``W``); a station listed without timeseries is taken to have one."""
    if station["timeseries"] is None:
        return {"shortname": WATER_LEVEL, "longname": "", "unit": "cm", "equidistance": None, "gauge_zero": None,
                "characteristic_values": []}
    return next((series for series in station["timeseries"] if series["shortname"] == WATER_LEVEL), None)


def _timeseries(item: Any, index: int) -> dict:
    where = f"timeseries[{index}]"
    if not isinstance(item, dict) or not _text(item, "shortname", where):
        raise StationError(where, "missing shortname")
    gauge_zero = item.get("gaugeZero")
    if gauge_zero is not None:
        if not isinstance(gauge_zero, dict):
            raise StationError(f"{where}.gaugeZero", "not an object")
        gauge_zero = {"value": _number(gauge_zero, "value", where=f"{where}.gaugeZero"),
                      "unit": _text(gauge_zero, "unit", f"{where}.gaugeZero"),
                      "valid_from": _text(gauge_zero, "validFrom", f"{where}.gaugeZero")}
    values = item.get("characteristicValues") or []
    if not isinstance(values, list):
        raise StationError(f"{where}.characteristicValues", "not a list")
    return {
        "shortname": _text(item, "shortname", where),
        "longname": _text(item, "longname", where),
        "unit": _text(item, "unit", where),
        "equidistance": _number(item, "equidistance", where=where),
        "gauge_zero": gauge_zero,
        "characteristic_values": [_characteristic_value(value, f"{where}.characteristicValues[{i}]")
                                  for i, value in enumerate(values)],
    }


def _characteristic_value(item: Any, where: str) -> dict:
    if not isinstance(item, dict) or not _text(item, "shortname", where):
        raise StationError(where, "missing shortname")
    value = _number(item, "value", where=where)
    if value is None:
        raise StationError(f"{where}.value", "missing")
    occurrences = item.get("occurrences") or []
    return {"shortname": _text(item, "shortname", where), "longname": _text(item, "longname", where),
            "unit": _text(item, "unit", where), "value": value, "valid_from": _text(item, "validFrom", where),
            "timespan_start": _text(item, "timespanStart", where), "timespan_end": _text(item, "timespanEnd", where),
            "occurrences": [str(o) for o in occurrences] if isinstance(occurrences, list) else []}


def _text(mapping: dict, key: str, where: str = "") -> str:
    value = mapping.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # station numbers sometimes come as numbers
    if not isinstance(value, str):
        raise StationError(f"{where}.{key}" if where else key, "not a text")
    return value.strip()


def _number(mapping: dict, key: str, where: str = "") -> float | None:
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StationError(f"{where}.{key}" if where else key, "not a number")
    return float(value)


# Measurements --------------------------------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> dt.datetime:
    """An ISO 8601 timestamp with offset (as PEGELONLINE sends it) as an aware UTC datetime.

    A timestamp without offset is ambiguous (local time with daylight saving?) and rejected.
    """
    if not isinstance(value, str):
        raise ValueError("timestamp is not a text")
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without time zone: {value}")
    return parsed.astimezone(dt.timezone.utc)


def parse_measurement(item: Any) -> tuple[dt.datetime, float]:
    """``(time in UTC, value)`` of a ``{timestamp, value}`` object; ValueError if it is not one."""
    if not isinstance(item, dict):
        raise ValueError("measurement is not an object")
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"measurement value is not a number: {value!r}")
    return parse_timestamp(item.get("timestamp")), float(value)
