"""Warning levels, trend and staleness of a gauging station: pure functions, no database, no request.

The server computes the state of a station once, so the map markers, the chart bands and the dashboard
agree. A station has one of two kinds of thresholds, both in the unit of its series (W: cm above gauge zero):

``meldestufen``
    Meldestufen 1-4 set by the municipality on the series resource (resource field ``pegel_warning_levels``,
    JSON ``{"1": 250, "2": 320, "3": 400, "4": 480}``; any non-empty subset of 1-4, strictly increasing).
    They win over the characteristic values. Classes: ``below_1`` (below Meldestufe 1), ``meldestufe_1``
    ... ``meldestufe_4`` (the value has reached that level, ``>=``).
``characteristic_values``
    PEGELONLINE's characteristic values (MNW, MW, MHW, HHW, ...), stored by the harvester in
    ``pegel_characteristic_values``. They are reference lines; the class follows PEGELONLINE's
    ``stateMnwMhw``: ``low`` (at or below MNW), ``normal`` (between MNW and MHW), ``high`` (at or above MHW).
    A station that lacks MNW or MHW is only classed against the line it has.

Without thresholds, or without a reading, the class is ``unknown``. The German labels are in ``action.py``
(they need a request for the translation); the keys here are stable API values.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

WARNING_LEVELS_FIELD = "pegel_warning_levels"
CHARACTERISTIC_VALUES_FIELD = "pegel_characteristic_values"

MELDESTUFEN = "meldestufen"
CHARACTERISTIC_VALUES = "characteristic_values"
NO_THRESHOLDS = "none"

BELOW_1 = "below_1"
LOW, NORMAL, HIGH = "low", "normal", "high"
UNKNOWN = "unknown"
LEVEL_KEYS = ("1", "2", "3", "4")

RISING, FALLING, STEADY = "rising", "falling", "steady"
# Trend: the newest reading against the oldest of the last TREND_READINGS readings (PEGELONLINE: one
# reading every 15 minutes, so about 45 minutes); a change within TREND_TOLERANCE (cm) is "steady".
TREND_READINGS = 4
TREND_TOLERANCE = 2.0

# Reference lines shown on the chart, lowest first, when a station has them.
REFERENCE_LINES = ("NNW", "MNW", "MW", "MHW", "HSW", "HHW")


class InvalidWarningLevels(ValueError):
    """Meldestufen that cannot be used; ``reason`` is one of the REASON_* keys, ``detail`` names the entry."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


REASON_JSON = "json"                # not JSON / not an object
REASON_KEY = "key"                  # a key other than "1" .. "4"
REASON_NUMBER = "number"            # a value that is not a finite number
REASON_ORDER = "order"              # not strictly increasing with the level
REASON_EMPTY = "empty"              # an empty object


@dataclass
class Thresholds:
    kind: str
    levels: dict[str, float] = field(default_factory=dict)      # Meldestufe "1".."4" -> value
    reference_lines: dict[str, float] = field(default_factory=dict)  # "MNW" -> value
    unit: str | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "levels": dict(self.levels), "reference_lines": dict(self.reference_lines),
                "unit": self.unit}


def parse_warning_levels(raw: Any) -> dict[str, float] | None:
    """The Meldestufen of a resource field value (JSON text or a dict); None when empty.

    Raises ``InvalidWarningLevels`` for anything else than an object of levels "1".."4" with finite numbers
    that strictly increase with the level."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise InvalidWarningLevels(REASON_JSON, str(error)) from error
    if not isinstance(raw, Mapping):
        raise InvalidWarningLevels(REASON_JSON, type(raw).__name__)
    if not raw:
        raise InvalidWarningLevels(REASON_EMPTY)
    levels = {}
    for key, value in raw.items():
        key = str(key).strip()
        if key not in LEVEL_KEYS:
            raise InvalidWarningLevels(REASON_KEY, key)
        if isinstance(value, str):
            try:
                value = float(value.replace(",", "."))
            except ValueError:
                raise InvalidWarningLevels(REASON_NUMBER, key) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidWarningLevels(REASON_NUMBER, key)
        levels[key] = float(value)
    ordered = [levels[key] for key in LEVEL_KEYS if key in levels]
    for lower, higher in zip(ordered, ordered[1:]):
        if not lower < higher:
            raise InvalidWarningLevels(REASON_ORDER, f"{lower:g} >= {higher:g}")
    return {key: levels[key] for key in LEVEL_KEYS if key in levels}


def from_form(raw: Any) -> Any:
    """The Meldestufen as the resource form sends them, ready for ``parse_warning_levels``.

    The form has one input per level, named ``pegel_warning_levels__0__1`` ... ``__4``, which CKAN unflattens
    to ``[{"1": "250", "2": "", ...}]``: the levels typed, or None when all four are blank (the municipality
    removes its Meldestufen). Any other value (JSON text, a dict from the API) is returned unchanged."""
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], Mapping):
        typed = {key: value for key, value in raw[0].items()
                 if not (value is None or (isinstance(value, str) and not value.strip()))}
        return typed or None
    return raw


def form_inputs(raw: Any) -> dict[str, str]:
    """The text of the four form inputs for a stored (or just submitted) value; blank where unset or invalid."""
    try:
        levels = parse_warning_levels(from_form(raw)) or {}
    except InvalidWarningLevels:
        submitted = raw[0] if isinstance(raw, list) and raw and isinstance(raw[0], Mapping) else {}
        return {key: str(submitted.get(key) or "") for key in LEVEL_KEYS}
    return {key: f"{levels[key]:g}" if key in levels else "" for key in LEVEL_KEYS}


def dump_warning_levels(levels: Mapping[str, float]) -> str:
    """The canonical resource field text of parsed Meldestufen."""
    return json.dumps({key: (int(value) if float(value).is_integer() else value)
                       for key, value in levels.items()}, sort_keys=True)


def parse_characteristic_values(raw: Any) -> dict[str, float]:
    """Shortname -> value of the harvester's ``pegel_characteristic_values`` (JSON list of
    {shortname, value, unit}); entries without a numeric value are skipped, garbage gives {}."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except ValueError:
            return {}
    values = {}
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping):
            continue
        name, value = entry.get("shortname"), entry.get("value")
        if isinstance(name, str) and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value):
            values[name.upper()] = float(value)
    return values


def thresholds(resource: Mapping[str, Any]) -> Thresholds:
    """The thresholds of a series resource: its Meldestufen if set (invalid ones are ignored, they cannot be
    saved through the API), the characteristic values' reference lines otherwise. The reference lines are
    returned in both cases, so a chart can draw them next to the Meldestufen bands."""
    characteristic = parse_characteristic_values(resource.get(CHARACTERISTIC_VALUES_FIELD))
    lines = {name: characteristic[name] for name in REFERENCE_LINES if name in characteristic}
    try:
        levels = parse_warning_levels(resource.get(WARNING_LEVELS_FIELD))
    except InvalidWarningLevels:
        levels = None
    if levels:
        return Thresholds(MELDESTUFEN, levels, lines)
    if "MNW" in lines or "MHW" in lines:
        return Thresholds(CHARACTERISTIC_VALUES, {}, lines)
    return Thresholds(NO_THRESHOLDS, {}, lines)


def classify(value: float | None, limits: Thresholds) -> str:
    """The warning class of ``value`` (see the module documentation)."""
    if value is None:
        return UNKNOWN
    if limits.kind == MELDESTUFEN:
        reached = [key for key in LEVEL_KEYS if key in limits.levels and value >= limits.levels[key]]
        return f"meldestufe_{reached[-1]}" if reached else BELOW_1
    if limits.kind == CHARACTERISTIC_VALUES:
        mnw, mhw = limits.reference_lines.get("MNW"), limits.reference_lines.get("MHW")
        if mhw is not None and value >= mhw:
            return HIGH
        if mnw is not None and value <= mnw:
            return LOW
        return NORMAL
    return UNKNOWN


def severity(level_class: str) -> int:
    """0 for nothing to report, growing with the class (for sorting and marker colours); -1 unknown."""
    if level_class.startswith("meldestufe_"):
        return int(level_class.rsplit("_", 1)[1])
    return {BELOW_1: 0, LOW: 0, NORMAL: 0, HIGH: 1}.get(level_class, -1)


def trend(values_newest_first: Sequence[float], tolerance: float = TREND_TOLERANCE,
          readings: int = TREND_READINGS) -> str | None:
    """``rising``, ``falling`` or ``steady`` from the newest readings (newest first); None with fewer than two."""
    window = list(values_newest_first[:readings])
    if len(window) < 2:
        return None
    change = window[0] - window[-1]
    if abs(change) <= tolerance:
        return STEADY
    return RISING if change > 0 else FALLING


def age_minutes(time: dt.datetime, now: dt.datetime) -> float:
    """Minutes from the reading to ``now`` (both aware), one decimal; negative for a reading from the future."""
    return round((now - time).total_seconds() / 60.0, 1)


def is_stale(age: float | None, stale_after_minutes: int) -> bool:
    """Whether a reading of that age is too old to show as current; no reading at all is stale."""
    return age is None or age > stale_after_minutes

