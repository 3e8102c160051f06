"""The sensors file: checked with line numbers; turns uplinks of the sample messages into water levels."""
import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from ckanext.pegel.ingest import adapters, mapping
from ckanext.pegel.ingest.adapters import InvalidPayload, Uplink

EXAMPLE = Path(__file__).resolve().parents[5] / "config" / "sensors.example.yaml"
UTC = dt.timezone.utc


@pytest.fixture
def example():
    return mapping.load(EXAMPLE)


def level(sensors, adapter, topic, payload):
    uplink = adapters.read(adapter, topic, json.dumps(payload).encode())
    return sensors.lookup(adapter, uplink.device).row(uplink)


def test_the_example_file_maps_every_sample_device(example, sensor_message):
    assert len(example.devices) == 6
    for name, adapter in [("ttn_v3/uplink_01.json", "ttn_v3"), ("ttn_v3/uplink_04.json", "ttn_v3"),
                          ("chirpstack_v4/event_up_01.json", "chirpstack_v4"),
                          ("chirpstack_v4/event_up_04.json", "chirpstack_v4"),
                          ("sensorthings/mqtt_observation_01.json", "sensorthings")]:
        assert level(example, adapter, *sensor_message(name))["unit"] == "cm"


@pytest.mark.parametrize("number", ["01", "02", "03"])
def test_ultrasonic_distance_gives_the_level_the_frost_server_publishes(example, sensor_message, number):
    # The SensorThings samples republish the Kuselbach sensor: level = 368.7 cm - distance.
    ttn = level(example, "ttn_v3", *sensor_message(f"ttn_v3/uplink_{number}.json"))
    frost = level(example, "sensorthings", *sensor_message(f"sensorthings/mqtt_observation_{number}.json"))
    assert ttn["value"] == frost["value"]
    assert ttn["time"].replace(microsecond=0) == frost["time"]
    assert (ttn["source"], frost["source"], ttn["quality"]) == ("ttn", "sensorthings", "ok")


def test_chirpstack_distance_in_mm_and_mount_height_in_m(example, sensor_message):
    row = level(example, "chirpstack_v4", *sensor_message("chirpstack_v4/event_up_01.json"))
    assert row == {"time": dt.datetime(2026, 1, 14, 6, 50, 3, 114291, tzinfo=UTC), "value": 230.8, "unit": "cm",
                   "quality": "ok", "source": "chirpstack"}


def test_dev_eui_matches_in_any_case(example):
    assert example.lookup("chirpstack_v4", "24E124713C251010").station == "altenglan-glan-bruecke"
    assert example.lookup("ttn_v3", "PEGEL-KUSEL-KUSELBACH-01") is None


def sensors(text):
    return mapping.parse(textwrap.dedent(text), "sensors.yaml")


DISTANCE = """\
devices:
  - device: d1
    adapter: json
    resource_id: r1
    measures: distance
    field: distance
    field_unit: cm
    mount_height: 2 m
    unit: mm
    plausible: [0, 1500]
"""


@pytest.mark.parametrize("value, expected, quality", [
    (50, 1500.0, "ok"),
    ("500 mm", 1500.0, "ok"),
    ("0,25 m", 1750.0, "suspect"),
    (250, -500.0, "suspect"),
])
def test_units_conversion_and_plausibility(value, expected, quality):
    device = sensors(DISTANCE).lookup("json", "d1")
    row = device.row(Uplink("d1", dt.datetime(2026, 1, 14, tzinfo=UTC), {"distance": value}))
    assert (row["value"], row["unit"], row["quality"]) == (expected, "mm", quality)


@pytest.mark.parametrize("fields, reason", [
    ({}, "field 'distance' missing"),
    ({"distance": "12 ft"}, "not a length"),
    ({"distance": -3}, "negative distance"),
    ({"distance": True}, "not a length"),
    ({"distance": [1]}, "not a length"),
    ({"distance": 1e308}, "out of range"),
    ({"distance": "1e3 m"}, "not a length"),
    ({"distance": "99999999999 mm"}, "out of range"),
])
def test_readings_that_do_not_fit_the_device(fields, reason):
    device = sensors(DISTANCE).lookup("json", "d1")
    with pytest.raises(InvalidPayload, match=reason):
        device.row(Uplink("d1", dt.datetime(2026, 1, 14, tzinfo=UTC), fields))


def test_nested_field_paths():
    device = sensors("""\
        devices:
          - {device: "17", adapter: sensorthings, station: s, measures: distance, field: parameters.distance_mm,
             field_unit: mm, mount_height: 368.7 cm}
        """).lookup("sensorthings", "17")
    uplink = Uplink("17", dt.datetime(2026, 1, 14, tzinfo=UTC), {"parameters": {"distance_mm": 1874}})
    assert device.row(uplink)["value"] == 181.3


@pytest.mark.parametrize("text, errors", [
    ("devices: [\n  {device: a\n", ["sensors.yaml:3: not valid YAML"]),
    ("stations: []\n", ["sensors.yaml:1: the file needs a list 'devices:'"]),
    ("devices: []\n", ["sensors.yaml:1: 'devices' is empty"]),
    ("""\
devices:
  - device: a
    adapter: ttn
    station: s
    field: x
    field_unit: mm
""", ["sensors.yaml:3: device 'a': 'adapter' must be one of ttn_v3, chirpstack_v4, sensorthings, json"]),
    ("""\
devices:
  - device: a
    adapter: json
    station: s
    resource_id: r
    field_unit: cm
    mount: 3 m
""", ["sensors.yaml:4: device 'a': give either 'station' or 'resource_id' (exactly one)",
      "sensors.yaml:7: unknown key 'mount' (known: "]),
    ("""\
devices:
  - device: a
    adapter: json
    station: s
    measures: distance
    field_unit: mm
    mount_height: 368.7
""", ["sensors.yaml:7: device 'a': 'mount_height' needs a unit, e.g. '368.7 cm' or '3687 mm'"]),
    ("""\
devices:
  - device: a
    adapter: json
    station: s
    field_unit: inch
    mount_height: 2 m
""", ["sensors.yaml:5: device 'a': 'field_unit' must be mm, cm or m",
      "sensors.yaml:6: device 'a': 'mount_height' only applies to 'measures: distance'"]),
    ("""\
devices:
  - {device: a, adapter: json, station: s, field_unit: cm}
  - {device: b, adapter: json, station: s, field_unit: cm, field_unit: mm}
  - {device: a, adapter: json, station: t, field_unit: cm}
""", ["sensors.yaml:3: key 'field_unit' appears twice (first in line 3)",
      "sensors.yaml:4: device 'a' (json) is already mapped in line 2"]),
])
def test_errors_name_their_line(text, errors):
    with pytest.raises(mapping.SensorsFileError) as raised:
        mapping.parse(text, "sensors.yaml")
    lines = str(raised.value).splitlines()
    assert len(lines) == len(errors), lines
    for line, expected in zip(lines, errors):
        assert line.startswith(expected)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(mapping.SensorsFileError, match="cannot read the sensors file"):
        mapping.load(tmp_path / "nope.yaml")
