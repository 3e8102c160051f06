"""Message formats of the sensor networks: each adapter turns one MQTT message into an ``Uplink``.

An adapter only reads the format: which device sent it, when it was measured, and the decoded
measurement fields. What a field means (distance or level, unit, mount height) is the sensors file's
business (``mapping``). Radio metadata (gateways, RSSI, locations) is never read.

Every problem raises ``InvalidPayload`` with a short English reason, which ends up in the dead-letter
table; adapters never raise anything else for bad input.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import msgspec

# A reading more than this far in the future is a device clock or a forged message, not a measurement.
MAX_FUTURE = dt.timedelta(minutes=10)
# Nothing before the first electronic gauges; also keeps year-1 dates out of PostgreSQL arithmetic.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)


class InvalidPayload(ValueError):
    """The message cannot become a reading; ``str(error)`` is the dead-letter reason."""


@dataclass(frozen=True)
class Uplink:
    """What the formats have in common: the device key, the UTC instant and the decoded fields."""
    device: str
    time: dt.datetime
    fields: Mapping[str, Any]


def decode_json(payload: bytes) -> dict:
    """The payload as a JSON object; rejects non-UTF-8, invalid JSON, NaN/Infinity and anything that is
    not an object. Hostile nesting ends in the parser's RecursionError, caught like any invalid JSON.

    msgspec parses valid JSON in a third of the time of the standard library, with the same result; what
    it refuses (also NaN, 1e400 or lone surrogates, which the standard parser reads) is parsed again by
    the standard library, so a bad payload gets the same dead-letter reason, and odd values the same
    treatment, as before."""
    try:
        document = _FAST_DECODER.decode(payload)
    except (msgspec.MsgspecError, RecursionError):
        return _decode_json_slowly(payload)
    return document if isinstance(document, dict) else _decode_json_slowly(payload)


_FAST_DECODER = msgspec.json.Decoder()


def _decode_json_slowly(payload: bytes) -> dict:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPayload("payload is not UTF-8 text") from None
    try:
        document = _DECODER.decode(text)
    except InvalidPayload:
        raise
    except (ValueError, RecursionError) as error:
        raise InvalidPayload(f"payload is not valid JSON ({_first_line(error)})") from None
    if not isinstance(document, dict):
        raise InvalidPayload(f"payload is a JSON {type(document).__name__}, not an object")
    return document


def _reject_constant(name: str):
    raise InvalidPayload(f"payload contains {name}, not a number")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def parse_time(value: Any, what: str = "time") -> dt.datetime:
    """An RFC 3339 / ISO 8601 instant with a time zone (``Z`` or offset), or Unix seconds, in UTC.
    Fractions beyond microseconds (The Things Stack sends nanoseconds) are cut."""
    if isinstance(value, bool):
        raise InvalidPayload(f"{what} is not a timestamp")
    if isinstance(value, (int, float)):
        try:
            time = dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InvalidPayload(f"{what} {value!r} is out of range") from None
    elif isinstance(value, str) and len(value) <= 64:
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
        try:
            time = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidPayload(f"{what} {value!r} is not an ISO 8601 timestamp") from None
        if time.tzinfo is None:
            raise InvalidPayload(f"{what} {value!r} has no time zone")
    else:
        raise InvalidPayload(f"{what} is missing or not a timestamp")
    time = time.astimezone(dt.timezone.utc)
    if time < EARLIEST:
        raise InvalidPayload(f"{what} {value!r} is before {EARLIEST.year}")
    if time > dt.datetime.now(dt.timezone.utc) + MAX_FUTURE:
        raise InvalidPayload(f"{what} {value!r} lies in the future")
    return time


def _object(document: Mapping, key: str, what: str) -> Mapping:
    value = document.get(key)
    if not isinstance(value, dict):
        raise InvalidPayload(f"{what} missing")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidPayload(f"{what} missing")
    return value.strip()


def ttn_v3(topic: str, document: Mapping) -> Uplink:
    """The Things Stack v3 uplink (topic ``v3/{application}@{tenant}/devices/{device_id}/up``).

    Device key: ``end_device_ids.device_id``; time: when the network server received the uplink;
    fields: ``uplink_message.decoded_payload`` (the application's payload formatter)."""
    device = _text(_object(document, "end_device_ids", "end_device_ids").get("device_id"), "device_id")
    uplink = _object(document, "uplink_message", "uplink_message")
    fields = uplink.get("decoded_payload")
    if not isinstance(fields, dict):
        raise InvalidPayload("uplink has no decoded_payload (no payload formatter configured?)")
    time = parse_time(uplink.get("received_at") or document.get("received_at"), "received_at")
    return Uplink(device, time, fields)


def chirpstack_v4(topic: str, document: Mapping) -> Uplink:
    """ChirpStack v4 uplink event, JSON marshaler (topic ``application/{id}/device/{dev_eui}/event/up``).

    Device key: ``deviceInfo.devEui`` in lower case; time: ``time`` (set by ChirpStack from the gateway
    or network server clock); fields: ``object`` (the device profile's codec)."""
    device = _text(_object(document, "deviceInfo", "deviceInfo").get("devEui"), "deviceInfo.devEui").lower()
    fields = document.get("object")
    if not isinstance(fields, dict):
        raise InvalidPayload("uplink has no decoded object (no codec in the device profile?)")
    return Uplink(device, parse_time(document.get("time"), "time"), fields)


_DATASTREAM = re.compile(r"Datastreams\((\d+|'[^'/]{1,100}')\)/Observations$")


def sensorthings(topic: str, document: Mapping) -> Uplink:
    """OGC SensorThings API v1.1 Observation (topic ``v1.1/Datastreams({id})/Observations``).

    Device key: the Datastream id from the topic (the Observation does not name it); time:
    ``phenomenonTime`` (the end of an interval); fields: the Observation (``result``, ``parameters``)."""
    match = _DATASTREAM.search(topic)
    if not match:
        raise InvalidPayload("topic names no Datastream (expected .../Datastreams(<id>)/Observations)")
    phenomenon = document.get("phenomenonTime")
    if isinstance(phenomenon, str) and "/" in phenomenon:
        phenomenon = phenomenon.rsplit("/", 1)[1]
    return Uplink(match.group(1).strip("'"), parse_time(phenomenon, "phenomenonTime"), document)


def plain_json(topic: str, document: Mapping) -> Uplink:
    """The platform's plain form for gateways of our own: ``{"device": ..., "time": ..., <field>: ...}``,
    time as RFC 3339 with zone or Unix seconds."""
    return Uplink(_text(document.get("device"), "device"), parse_time(document.get("time"), "time"), document)


# The network servers' uplinks carry about 1.5 KB of radio metadata the ingest never reads: these
# layouts make msgspec skip it while parsing. Absent and null fields are both None, which the adapters
# treat alike; a field of another JSON type fails the layout and the payload takes the general path
# (decode_json), so a bad uplink gets the same reason either way.
class _TtnIds(msgspec.Struct):
    device_id: Any = None


class _TtnUplinkMessage(msgspec.Struct):
    decoded_payload: Any = None
    received_at: Any = None


class _TtnUplink(msgspec.Struct):
    end_device_ids: _TtnIds | None = None
    uplink_message: _TtnUplinkMessage | None = None
    received_at: Any = None


class _ChirpstackInfo(msgspec.Struct):
    devEui: Any = None


class _ChirpstackUplink(msgspec.Struct):
    deviceInfo: _ChirpstackInfo | None = None
    object: Any = None
    time: Any = None


def _ttn_document(uplink: _TtnUplink) -> dict:
    ids, message = uplink.end_device_ids, uplink.uplink_message
    return {"end_device_ids": ids and {"device_id": ids.device_id},
            "uplink_message": message and {"decoded_payload": message.decoded_payload,
                                           "received_at": message.received_at},
            "received_at": uplink.received_at}


def _chirpstack_document(uplink: _ChirpstackUplink) -> dict:
    info = uplink.deviceInfo
    return {"deviceInfo": info and {"devEui": info.devEui}, "object": uplink.object, "time": uplink.time}


_LAYOUTS = {
    "ttn_v3": (msgspec.json.Decoder(_TtnUplink), _ttn_document),
    "chirpstack_v4": (msgspec.json.Decoder(_ChirpstackUplink), _chirpstack_document),
}


Adapter = Callable[[str, Mapping], Uplink]
ADAPTERS: dict[str, Adapter] = {
    "ttn_v3": ttn_v3,
    "chirpstack_v4": chirpstack_v4,
    "sensorthings": sensorthings,
    "json": plain_json,
}
# The ``source`` column of the series table (see series.SERIES_FIELDS).
SOURCES = {"ttn_v3": "ttn", "chirpstack_v4": "chirpstack", "sensorthings": "sensorthings", "json": "json"}
# How the device key is compared: DevEUIs are hex and case-insensitive.
CASE_INSENSITIVE_KEYS = frozenset({"chirpstack_v4"})


def read(adapter: str, topic: str, payload: bytes) -> Uplink:
    """Decode ``payload`` with the named adapter."""
    layout = _LAYOUTS.get(adapter)
    document = None
    if layout:
        try:
            document = layout[1](layout[0].decode(payload))
        except (msgspec.MsgspecError, RecursionError):
            pass
    return ADAPTERS[adapter](topic, document if document is not None else decode_json(payload))
