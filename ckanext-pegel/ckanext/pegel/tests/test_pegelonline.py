"""Reading PEGELONLINE's formats: station records (real samples) and measurements, times in UTC."""
import datetime as dt
import json

import pytest

from ckanext.pegel import pegelonline
from ckanext.pegel.tests.harvesters.feed import FULL, KOBLENZ, KOBLENZ_STATION  # noqa: F401
from ckanext.pegel.tests.harvesters.feed import pegelonline_fixtures  # noqa: F401 (fixture)

UTC = dt.timezone.utc


def sample(fixtures, name):
    return json.loads((fixtures / name).read_text(encoding="utf-8"))


def test_a_station_with_characteristic_values(pegelonline_fixtures):
    station = pegelonline.parse_station(sample(pegelonline_fixtures, KOBLENZ_STATION))

    assert (station["uuid"], station["longname"], station["water"]["shortname"], station["km"]) == (
        KOBLENZ, "KOBLENZ", "RHEIN", 591.49)
    level = pegelonline.water_level(station)
    assert level["gauge_zero"] == {"value": 57.692, "unit": "m. ü. NHN", "valid_from": "2019-11-01"}
    assert [(v["shortname"], v["value"]) for v in level["characteristic_values"]] == [
        ("MNW", 60.0), ("MW", 214.0), ("MHW", 588.0), ("HSW", 650.0), ("HHW", 949.0)]
    assert "currentMeasurement" not in json.dumps(station)  # it changes every few minutes; a dataset does not


def test_real_station_records_of_other_years(pegelonline_fixtures):
    koeln = pegelonline.parse_station(sample(pegelonline_fixtures, "real_snippets/station_KOELN_2023-01-12_"
                                                                   "includeTimeseries_includeCurrentMeasurement.json"))
    assert [series["shortname"] for series in koeln["timeseries"]] == ["W", "Q", "WT"]
    assert pegelonline.water_level(koeln)["unit"] == "cm"

    stations = [pegelonline.parse_station(record) for record in sample(pegelonline_fixtures, FULL)]
    assert len(stations) == 605 and len({s["uuid"] for s in stations}) == 605
    # 15 stations of 2014 have no coordinates: allowed, they just cannot be placed on a map
    assert sum(1 for s in stations if s["longitude"] is None) == 15
    # listed without timeseries: taken to measure the water level
    assert all(pegelonline.water_level(s)["shortname"] == "W" for s in stations)


@pytest.mark.parametrize("change, field, problem", [
    ({"uuid": "KOBLENZ"}, "uuid", "missing or not a UUID"),
    ({"water": None}, "water", "missing"),
    ({"latitude": "50,35"}, "latitude", "not a number"),
    ({"latitude": None}, "latitude", "missing"),
    ({"longitude": 250.0}, "longitude", "outside WGS 84"),
    ({"timeseries": {"shortname": "W"}}, "timeseries", "not a list"),
    ({"longname": ["KOBLENZ"]}, "longname", "not a text"),
])
def test_a_broken_record_names_its_field(pegelonline_fixtures, change, field, problem):
    record = dict(sample(pegelonline_fixtures, KOBLENZ_STATION), **change)

    with pytest.raises(pegelonline.StationError) as error:
        pegelonline.parse_station(record)

    assert (error.value.field, error.value.problem) == (field, problem)


def test_a_broken_characteristic_value_names_its_place(pegelonline_fixtures):
    record = sample(pegelonline_fixtures, KOBLENZ_STATION)
    record["timeseries"][0]["characteristicValues"][2]["value"] = "588 cm"

    with pytest.raises(pegelonline.StationError) as error:
        pegelonline.parse_station(record)

    assert error.value.field == "timeseries[0].characteristicValues[2].value"


@pytest.mark.parametrize("timestamp, utc", [
    ("2026-01-16T00:00:00+01:00", dt.datetime(2026, 1, 15, 23, 0, tzinfo=UTC)),  # winter time
    ("2026-09-23T21:45:00+02:00", dt.datetime(2026, 9, 23, 19, 45, tzinfo=UTC)),  # summer time
    ("2026-03-29T01:59:00Z", dt.datetime(2026, 3, 29, 1, 59, tzinfo=UTC)),
])
def test_measurements_are_read_in_utc(timestamp, utc):
    assert pegelonline.parse_measurement({"timestamp": timestamp, "value": -12}) == (utc, -12.0)


@pytest.mark.parametrize("measurement", [
    {"timestamp": "2026-01-16T00:00:00", "value": 615.0},  # local time of which zone?
    {"timestamp": "16.01.2026 00:00", "value": 615.0},
    {"timestamp": "2026-01-16T00:00:00+01:00", "value": "615"},
    {"timestamp": "2026-01-16T00:00:00+01:00", "value": float("nan")},
    {"timestamp": "2026-01-16T00:00:00+01:00"},
    [],
])
def test_unusable_measurements_are_refused(measurement):
    with pytest.raises(ValueError):
        pegelonline.parse_measurement(measurement)
