"""Adapters read the sample messages of each format; bad and hostile payloads get a reason, nothing else."""
import datetime as dt
import json

import pytest

from ckanext.pegel.ingest import adapters
from ckanext.pegel.ingest.adapters import InvalidPayload

UTC = dt.timezone.utc


def read(adapter, topic, payload):
    return adapters.read(adapter, topic, json.dumps(payload).encode())


@pytest.mark.parametrize("name, device, time, distance", [
    ("ttn_v3/uplink_01.json", "pegel-kusel-kuselbach-01", "2026-01-14T06:15:07.482913", "1874 mm"),
    ("ttn_v3/uplink_03.json", "pegel-kusel-kuselbach-01", "2026-01-14T06:45:07.477015", "1493 mm"),
    ("ttn_v3/uplink_04.json", "pegel-altenglan-glan-02", "2026-01-14T06:46:12.118402", "2311 mm"),
])
def test_the_things_stack_uplinks(sensor_message, name, device, time, distance):
    uplink = read("ttn_v3", *sensor_message(name))
    assert uplink.device == device
    assert uplink.time == dt.datetime.fromisoformat(time).replace(tzinfo=UTC)
    assert uplink.fields["Distance"] == distance


@pytest.mark.parametrize("name, device, time, distance", [
    ("chirpstack_v4/event_up_01.json", "24e124713c251010", "2026-01-14T06:50:03.114291", 1642),
    ("chirpstack_v4/event_up_04.json", "24e124713c2511a4", "2026-01-14T07:11:45.512030", 2083),
])
def test_chirpstack_uplinks(sensor_message, name, device, time, distance):
    uplink = read("chirpstack_v4", *sensor_message(name))
    assert (uplink.device, uplink.fields["distance"]) == (device, distance)
    assert uplink.time == dt.datetime.fromisoformat(time).replace(tzinfo=UTC)


def test_sensorthings_observation_takes_the_datastream_from_the_topic(sensor_message):
    topic, payload = sensor_message("sensorthings/mqtt_observation_02.json")
    uplink = read("sensorthings", topic, payload)
    assert uplink.device == "17"
    assert uplink.time == dt.datetime(2026, 1, 14, 6, 30, 7, tzinfo=UTC)
    assert uplink.fields["result"] == 198.5


def test_sensorthings_interval_uses_its_end_and_quoted_ids_work():
    uplink = read("sensorthings", "frost/v1.1/Datastreams('kusel-17')/Observations",
                  {"phenomenonTime": "2026-01-14T06:00:00Z/2026-01-14T06:15:00+01:00", "result": 1})
    assert uplink.device == "kusel-17"
    assert uplink.time == dt.datetime(2026, 1, 14, 5, 15, tzinfo=UTC)


def test_plain_json_with_offset_nanoseconds_or_unix_seconds():
    uplink = read("json", "kommune/kl/pegel", {"device": "kl-lauter-01", "time": "2026-01-14T07:15:07.123456789+01:00",
                                               "water_level_cm": 123.4})
    assert uplink.time == dt.datetime(2026, 1, 14, 6, 15, 7, 123456, tzinfo=UTC)
    assert read("json", "t", {"device": "d", "time": 1768371307}).time == dt.datetime(2026, 1, 14, 6, 15, 7,
                                                                                      tzinfo=UTC)


@pytest.mark.parametrize("adapter, payload, reason", [
    ("json", b"\xff\xfe not utf-8", "not UTF-8"),
    ("json", b"{\"device\": ", "not valid JSON"),
    ("json", b"[1, 2]", "JSON list, not an object"),
    ("json", b"null", "JSON NoneType"),
    ("json", b'{"device": "d", "time": "2026-01-14T06:00:00Z", "value": NaN}', "contains NaN"),
    ("json", b'{"value": Infinity}', "contains Infinity"),
    ("json", b"[" * 200_000 + b"]" * 200_000, "not valid JSON"),
    ("json", b'{"v": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ("json", b'{"time": "2026-01-14T06:00:00Z"}', "device missing"),
    ("json", b'{"device": {"$ne": 1}, "time": "2026-01-14T06:00:00Z"}', "device missing"),
    ("json", b'{"device": "d", "time": "2026-01-14T06:00:00"}', "has no time zone"),
    ("json", b'{"device": "d", "time": "yesterday"}', "not an ISO 8601 timestamp"),
    ("json", b'{"device": "d", "time": "2999-01-01T00:00:00Z"}', "lies in the future"),
    ("json", b'{"device": "d", "time": "0001-01-01T00:00:00Z"}', "before 1990"),
    ("json", b'{"device": "d", "time": 1e300}', "out of range"),
    ("json", b'{"device": "d", "time": true}', "not a timestamp"),
    ("json", b'{"device": "d"}', "time is missing"),
    ("ttn_v3", b'{"end_device_ids": {"device_id": "x"}, "uplink_message": {"received_at": "2026-01-14T06:00:00Z"}}',
     "no decoded_payload"),
    ("ttn_v3", b'{"uplink_message": {}}', "end_device_ids missing"),
    ("chirpstack_v4", b'{"deviceInfo": {"devEui": "AB"}, "time": "2026-01-14T06:00:00Z"}', "no decoded object"),
    ("sensorthings", b'{"phenomenonTime": "2026-01-14T06:00:00Z", "result": 1}', "names no Datastream"),
])
def test_invalid_payloads_are_rejected_with_a_reason(adapter, payload, reason):
    topic = "v1.1/Things(1)/Observations" if adapter == "sensorthings" else "some/topic"
    with pytest.raises(InvalidPayload, match=reason):
        adapters.read(adapter, topic, payload)


def test_every_sample_message_is_read_by_its_adapter(sensor_fixtures_dir):
    formats = {"ttn_v3": "ttn_v3", "chirpstack_v4": "chirpstack_v4", "sensorthings": "sensorthings"}
    read_count = 0
    for folder, adapter in formats.items():
        for path in sorted((sensor_fixtures_dir / folder).glob("*.json")):
            sample = json.loads(path.read_text())
            if "topic" not in sample or sample.get("direction"):
                continue  # context documents and client->server examples are not deliveries
            assert read(adapter, sample["topic"], sample["payload"]).time.tzinfo == UTC
            read_count += 1
    assert read_count == 11


# msgspec reads only the fields an adapter needs (see adapters._LAYOUTS); the results and the reasons must
# be those of the standard library's parser.

TTN_DEVICE = b'"end_device_ids": {"device_id": "x"}'
TTN_UPLINK = b'"uplink_message": {"decoded_payload": {"Distance": 1}, "received_at": "2026-01-14T06:00:00Z", '


@pytest.mark.parametrize("adapter, payload, reason", [
    ("ttn_v3", b"{" + TTN_DEVICE + b", " + TTN_UPLINK + b'"rx_metadata": [{"rssi": NaN}]}}', "contains NaN"),
    ("ttn_v3", b"{" + TTN_DEVICE + b", " + TTN_UPLINK + b'"rx_metadata": [{"rssi": }]}}', "not valid JSON"),
    ("ttn_v3", b'{"end_device_ids": 5, ' + TTN_UPLINK + b'"f_cnt": 1}}', "end_device_ids missing"),
    ("ttn_v3", b'{"end_device_ids": {"device_id": 7}, ' + TTN_UPLINK + b'"f_cnt": 1}}', "device_id missing"),
    ("ttn_v3", b"{" + TTN_DEVICE + b', "uplink_message": "up"}', "uplink_message missing"),
    ("ttn_v3", b"{" + TTN_DEVICE + b', "uplink_message": {"decoded_payload": [1]}}', "no decoded_payload"),
    ("ttn_v3", b"[{" + TTN_DEVICE + b"}]", "JSON list, not an object"),
    ("chirpstack_v4", b'{"deviceInfo": [], "object": {}, "time": "2026-01-14T06:00:00Z"}', "deviceInfo missing"),
    ("chirpstack_v4", b'{"deviceInfo": {"devEui": "AB"}, "object": 3, "time": "2026-01-14T06:00:00Z"}',
     "no decoded object"),
    ("chirpstack_v4", b'{"deviceInfo": {"devEui": "AB"}, "object": {}, "time": "2026-01-14T06:00:00Z", '
                      b'"rxInfo": [{"rssi": -Infinity}]}', "contains -Infinity"),
])
def test_the_fields_an_adapter_skips_are_still_checked_and_wrong_types_keep_their_reason(adapter, payload, reason):
    with pytest.raises(InvalidPayload, match=reason):
        adapters.read(adapter, "some/topic", payload)


def test_the_fast_reading_gives_what_the_standard_parser_gives(sensor_fixtures_dir):
    compared = 0
    for adapter in ("ttn_v3", "chirpstack_v4", "sensorthings"):
        for path in sorted((sensor_fixtures_dir / adapter).glob("*.json")):
            sample = json.loads(path.read_text())
            if "topic" not in sample or sample.get("direction"):
                continue
            payload = json.dumps(sample["payload"]).encode()
            expected = adapters.ADAPTERS[adapter](sample["topic"], json.loads(payload))
            assert adapters.read(adapter, sample["topic"], payload) == expected
            compared += 1
    assert compared == 11
