"""The sensors file: which device feeds which station's series, and how its reading becomes a level.

YAML (path in ``ckanext.pegel.sensors_file``; example: ``config/sensors.example.yaml``)::

    devices:
      - device: pegel-kusel-kuselbach-01   # TTS device_id, ChirpStack DevEUI, SensorThings Datastream id
        adapter: ttn_v3                    # ttn_v3 | chirpstack_v4 | sensorthings | json
        station: kusel-kuselbach           # station key of the series resource (or resource_id: ...)
        measures: distance                 # distance (ultrasonic, level = mount height - distance) | level
        field: Distance                    # field of the decoded payload (dots for nested fields)
        field_unit: mm                     # unit of a bare number in that field (mm | cm | m)
        mount_height: 368.7 cm             # sensor height above gauge zero, with unit (distance only)
        unit: cm                           # unit stored in the series (default cm, like PEGELONLINE's W)
        plausible: [0, 400]                # optional: values outside are stored with quality "suspect"

The whole file is checked before anything runs; every error names its line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ckanext.pegel.ingest.adapters import ADAPTERS, CASE_INSENSITIVE_KEYS, SOURCES, InvalidPayload, Uplink

LENGTH_UNITS = {"mm": 1.0, "cm": 10.0, "m": 1000.0}
# No gauge measures more than a kilometre: anything larger is a broken or hostile payload.
MAX_LENGTH_MM = 1e6
MEASURES = ("level", "distance")
DEFAULT_FIELDS = {"sensorthings": "result", "json": "value"}
KEYS = ("device", "adapter", "station", "resource_id", "measures", "field", "field_unit", "mount_height",
        "unit", "plausible")
_LENGTH = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(mm|cm|m)?\s*$")


class SensorsFileError(Exception):
    """The sensors file cannot be used; ``errors`` holds (line, message) pairs."""

    def __init__(self, path, errors: list[tuple[int | None, str]]):
        self.path, self.errors = str(path), errors
        super().__init__("\n".join(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
                                   for line, message in errors))


def to_mm(value: Any, default_unit: str, what: str) -> float:
    """A length in millimetres from a number (in ``default_unit``) or a string like ``"1874 mm"``."""
    if isinstance(value, bool):
        raise InvalidPayload(f"{what} is not a length")
    if isinstance(value, (int, float)):
        number, unit = float(value), default_unit
    elif isinstance(value, str) and len(value) <= 40 and (match := _LENGTH.match(value)):
        number, unit = float(match.group(1).replace(",", ".")), match.group(2) or default_unit
    else:
        raise InvalidPayload(f"{what} {str(value)[:40]!r} is not a length")
    millimetres = number * LENGTH_UNITS[unit]
    if not math.isfinite(millimetres) or abs(millimetres) > MAX_LENGTH_MM:
        raise InvalidPayload(f"{what} {str(value)[:40]!r} is out of range")
    return millimetres


@dataclass(frozen=True)
class Device:
    """One entry of the sensors file."""
    device: str
    adapter: str
    station: str | None
    resource_id: str | None
    measures: str
    field: str
    field_unit: str
    mount_height_mm: float | None
    unit: str
    plausible: tuple[float, float] | None
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return self.adapter, normalise_key(self.adapter, self.device)

    @property
    def target(self) -> str:
        """Human-readable series target for logs: the resource id or the station key."""
        return self.resource_id or f"station {self.station}"

    def row(self, uplink: Uplink) -> dict:
        """The series row of an uplink of this device (``series.SERIES_FIELDS``)."""
        raw = uplink.fields
        for part in self.field.split("."):
            raw = raw.get(part) if isinstance(raw, dict) else None
        if raw is None:
            raise InvalidPayload(f"field {self.field!r} missing in the decoded payload")
        measured = to_mm(raw, self.field_unit, f"field {self.field!r}")
        if self.measures == "distance":
            if measured < 0:
                raise InvalidPayload(f"negative distance in field {self.field!r}")
            measured = self.mount_height_mm - measured
        # Rounded to a micrometre: removes float noise such as 368.7 - 187.4 = 181.29999999999998.
        value = round(measured / LENGTH_UNITS[self.unit], 6)
        suspect = self.plausible and not self.plausible[0] <= value <= self.plausible[1]
        return {"time": uplink.time, "value": value, "unit": self.unit, "quality": "suspect" if suspect else "ok",
                "source": SOURCES[self.adapter]}


def normalise_key(adapter: str, key: str) -> str:
    return key.lower() if adapter in CASE_INSENSITIVE_KEYS else key


@dataclass(frozen=True)
class SensorsFile:
    """The validated devices of a sensors file, looked up by (adapter, device key)."""
    path: str
    devices: dict[tuple[str, str], Device]

    def lookup(self, adapter: str, key: str) -> Device | None:
        return self.devices.get((adapter, normalise_key(adapter, key)))


def load(path) -> SensorsFile:
    """Read and check a sensors file; raises ``SensorsFileError`` listing every problem with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SensorsFileError(path, [(None, f"cannot read the sensors file: {error}")]) from None
    return parse(text, path)


def parse(text: str, path="sensors file") -> SensorsFile:
    """Check the YAML text of a sensors file (see ``load``)."""
    loader = _LineLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise SensorsFileError(path, [(mark.line + 1 if mark else None, f"not valid YAML: {problem}")]) from None
    finally:
        loader.dispose()
    errors = list(loader.duplicate_keys)
    devices: dict[tuple[str, str], Device] = {}
    if not isinstance(document, dict) or not isinstance(document.get("devices"), list):
        errors.append((getattr(document, "line", 1), "the file needs a list 'devices:'"))
        raise SensorsFileError(path, errors)
    for key in set(document) - {"devices", "version"}:
        errors.append((document.lines.get(key), f"unknown key {key!r} (expected 'devices')"))
    if not document["devices"]:
        errors.append((document.lines.get("devices"), "'devices' is empty"))
    for entry in document["devices"]:
        try:
            device = _device(entry)
        except _EntryError as error:
            errors.extend(error.errors)
            continue
        if device.key in devices:
            errors.append((device.line, f"device {device.device!r} ({device.adapter}) is already mapped in "
                                        f"line {devices[device.key].line}"))
        else:
            devices[device.key] = device
    if errors:
        raise SensorsFileError(path, sorted(errors, key=lambda e: e[0] or 0))
    return SensorsFile(str(path), devices)


class _EntryError(Exception):
    def __init__(self, errors):
        self.errors = errors


def _device(entry: Any) -> Device:
    if not isinstance(entry, dict):
        raise _EntryError([(getattr(entry, "line", None), "each device must be a mapping of keys")])
    errors: list[tuple[int | None, str]] = []

    def fail(key, message):
        errors.append((entry.lines.get(key, entry.line), message))

    for key in entry:
        if key not in KEYS:
            fail(key, f"unknown key {key!r} (known: {', '.join(KEYS)})")
    device = entry.get("device")
    if isinstance(device, (str, int)) and not isinstance(device, bool) and str(device).strip():
        device = str(device).strip()
    else:
        fail("device", "'device' is required (the device id, DevEUI or Datastream id)")
        device = "?"
    label = f"device {device!r}: "
    adapter = entry.get("adapter")
    if adapter not in ADAPTERS:
        fail("adapter", f"{label}'adapter' must be one of {', '.join(ADAPTERS)}")
    targets = [key for key in ("station", "resource_id") if entry.get(key) not in (None, "")]
    if len(targets) != 1:
        fail("station", f"{label}give either 'station' or 'resource_id' (exactly one)")
    for key in targets:
        if not isinstance(entry[key], str):
            fail(key, f"{label}'{key}' must be text")
    measures = entry.get("measures", "level")
    if measures not in MEASURES:
        fail("measures", f"{label}'measures' must be 'level' or 'distance'")
    field = entry.get("field", DEFAULT_FIELDS.get(adapter))
    if not isinstance(field, str) or not field.strip():
        fail("field", f"{label}'field' is required (the decoded payload field with the measurement)")
    field_unit = entry.get("field_unit")
    if field_unit not in LENGTH_UNITS:
        fail("field_unit", f"{label}'field_unit' must be mm, cm or m")
    unit = entry.get("unit", "cm")
    if unit not in LENGTH_UNITS:
        fail("unit", f"{label}'unit' must be mm, cm or m")
    mount_height_mm = None
    if measures == "distance":
        mount_height_mm = _mount_height(entry.get("mount_height"), label, lambda m: fail("mount_height", m))
    elif "mount_height" in entry:
        fail("mount_height", f"{label}'mount_height' only applies to 'measures: distance'")
    plausible = entry.get("plausible")
    if plausible is not None:
        if (isinstance(plausible, list) and len(plausible) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in plausible)
                and plausible[0] < plausible[1]):
            plausible = (float(plausible[0]), float(plausible[1]))
        else:
            fail("plausible", f"{label}'plausible' must be [lowest, highest] in the stored unit")
    if errors:
        raise _EntryError(errors)
    return Device(device=device, adapter=adapter, station=entry.get("station") or None,
                  resource_id=entry.get("resource_id") or None, measures=measures, field=field.strip(),
                  field_unit=field_unit, mount_height_mm=mount_height_mm, unit=unit, plausible=plausible,
                  line=entry.line)


def _mount_height(value: Any, label: str, fail) -> float | None:
    if isinstance(value, str) and (match := _LENGTH.match(value)) and match.group(2):
        height = float(match.group(1).replace(",", ".")) * LENGTH_UNITS[match.group(2)]
        if height > 0:
            return height
        fail(f"{label}'mount_height' must be above zero")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        fail(f"{label}'mount_height' needs a unit, e.g. '368.7 cm' or '3687 mm'")
    else:
        fail(f"{label}'mount_height' is required for 'measures: distance' (e.g. '368.7 cm')")
    return None


class _LinedDict(dict):
    """A YAML mapping that remembers its line and the line of each key (1-based)."""
    line: int
    lines: dict


class _LineLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):
    mapping = _LinedDict()
    mapping.line, mapping.lines = node.start_mark.line + 1, {}
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)):
            loader.duplicate_keys.append((key_node.start_mark.line + 1, "keys must be plain text"))
            continue
        if key in mapping:
            loader.duplicate_keys.append((key_node.start_mark.line + 1,
                                          f"key {key!r} appears twice (first in line {mapping.lines[key]})"))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

