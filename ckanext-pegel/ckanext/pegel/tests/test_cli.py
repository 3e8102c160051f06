"""`ckan pegel ...`: check the sensors file, list and replay dead letters."""
import datetime as dt
import json
import textwrap

import pytest

from ckan.cli.cli import ckan as ckan_command

from ckanext.pegel.ingest import deadletter, store
from ckanext.pegel.tests.ingest.fixtures import (  # noqa: F401 (fixtures)
    clean_datastore,
    dead_letters,
    read_series,
    series_resource,
)

pytestmark = pytest.mark.usefixtures("clean_datastore", "with_extended_cli")

SENSORS = """\
devices:
  - device: gauge-1
    adapter: json
    station: {station}
    field: level
    field_unit: cm
  - device: gauge-2
    adapter: json
    station: nowhere
    field: level
    field_unit: cm
"""


def pegel(cli, *args):
    return cli.invoke(ckan_command, ["pegel", *args])


def test_check_sensors_names_the_line_of_each_error(cli, tmp_path):
    path = tmp_path / "sensors.yaml"
    path.write_text(textwrap.dedent("""\
        devices:
          - device: a
            adapter: lora
            station: s
            field_unit: cm
          - device: b
            adapter: json
            station: s
            field_unit: cm
            measures: distance
        """))
    result = pegel(cli, "check-sensors", str(path))
    assert result.exit_code == 1
    assert f"{path}:3: device 'a': 'adapter' must be one of" in result.output
    assert f"{path}:6: device 'b': 'mount_height' is required for 'measures: distance'" in result.output


def test_check_sensors_finds_the_series_and_reports_stations_without_one(cli, tmp_path, series_resource):
    resource = series_resource()
    path = tmp_path / "sensors.yaml"
    path.write_text(SENSORS.format(station=resource["pegel_station"]))
    result = pegel(cli, "check-sensors", str(path))
    assert result.exit_code == 1
    assert f"line 2: gauge-1 (json) -> {resource['id']}" in result.output
    assert "line 7: gauge-2 (json): no series resource for station 'nowhere'" in result.output
    assert "1 of 2 devices have no series" in result.output


def park(topic, payload, reason):
    engine = store.write_engine()
    deadletter.ensure_table(engine)
    with engine.begin() as connection:
        deadletter.insert(connection, [deadletter.DeadLetter(
            topic, reason, json.dumps(payload).encode(), dt.datetime.now(dt.timezone.utc))])


def test_dead_letters_lists_the_newest_with_reason_and_payload(cli):
    park("kommune/kl/pegel", {"device": "x", "time": 1767225600}, "device 'x' (json) is not in the sensors file")
    park("kommune/kus/pegel", {"device": "y"}, "time is missing or not a timestamp")
    result = pegel(cli, "dead-letters", "--payload")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("kommune/kus/pegel: time is missing or not a timestamp")
    assert lines[1].strip() == '{"device": "y"}'
    assert lines[2].endswith("kommune/kl/pegel: device 'x' (json) is not in the sensors file")
    only = pegel(cli, "dead-letters", "--topic-prefix", "kommune/kl/")
    assert len(only.output.splitlines()) == 1


def test_replay_stores_what_the_sensors_file_now_maps_and_keeps_the_rest(
        cli, tmp_path, ckan_config, series_resource, read_series, dead_letters):
    resource = series_resource()
    path = tmp_path / "sensors.yaml"
    path.write_text(SENSORS.format(station=resource["pegel_station"]))
    ckan_config["ckanext.pegel.sensors_file"] = str(path)
    ckan_config["ckanext.pegel.mqtt_topics"] = "json:kommune/#"
    park("kommune/kl/pegel", {"device": "gauge-1", "time": 1767225600, "level": 42.5},
         "device 'gauge-1' (json) is not in the sensors file")
    park("kommune/kl/pegel", {"device": "gauge-2", "time": 1767225600, "level": 7},
         "device 'gauge-2' (json) is not in the sensors file")
    park("kommune/kl/pegel", {"device": "gauge-1", "time": "soon", "level": 1}, "time 'soon' is not ...")

    result = pegel(cli, "replay-dead-letters")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "still invalid: 1, still unresolved: 1, stored: 1"
    assert [(r["time"], r["value"]) for r in read_series(resource["id"])] == [("2026-01-01T00:00:00+00:00", 42.5)]
    assert [letter["payload"] for letter in dead_letters()] == [
        '{"device": "gauge-2", "time": 1767225600, "level": 7}',
        '{"device": "gauge-1", "time": "soon", "level": 1}']
