"""Thresholds, warning classes, trend and staleness of a station (pure functions)."""
import datetime as dt
import json
from pathlib import Path

import pytest

from ckanext.pegel import warning_levels as wl

KOBLENZ = "station_KOBLENZ_includeTimeseries_includeCurrentMeasurement_includeCharacteristicValues.json"


@pytest.fixture(scope="module")
def koblenz(pytestconfig):
    """The real PEGELONLINE station KOBLENZ (Rhein) with its characteristic values and current measurement."""
    path = Path(pytestconfig.rootpath, "../shared/fixtures/pegelonline", KOBLENZ)
    timeseries = json.loads(path.read_text())["timeseries"][0]
    # what the harvester stores on the series resource (mapping.resources)
    stored = json.dumps([{key: value[key] for key in ("shortname", "value", "unit")}
                         for value in timeseries["characteristicValues"]], sort_keys=True)
    return {"resource": {wl.CHARACTERISTIC_VALUES_FIELD: stored}, "current": timeseries["currentMeasurement"]}


class TestParseWarningLevels:
    def test_levels_as_json_or_dict(self):
        assert wl.parse_warning_levels('{"1": 250, "2": 320, "3": 400, "4": 480}') == {
            "1": 250.0, "2": 320.0, "3": 400.0, "4": 480.0}
        assert wl.parse_warning_levels({"2": "320,5", "4": 480}) == {"2": 320.5, "4": 480.0}

    @pytest.mark.parametrize("raw", [None, "", "   "])
    def test_empty_means_none(self, raw):
        assert wl.parse_warning_levels(raw) is None

    @pytest.mark.parametrize("raw, reason", [
        ("250", wl.REASON_JSON),
        ("{1: 250}", wl.REASON_JSON),
        ("[250, 320]", wl.REASON_JSON),
        ("{}", wl.REASON_EMPTY),
        ('{"5": 600}', wl.REASON_KEY),
        ('{"1": "hoch"}', wl.REASON_NUMBER),
        ('{"1": true}', wl.REASON_NUMBER),
        ('{"1": 300, "2": 300}', wl.REASON_ORDER),
        ('{"1": 400, "3": 320}', wl.REASON_ORDER),
    ])
    def test_invalid_levels_are_refused_with_a_reason(self, raw, reason):
        with pytest.raises(wl.InvalidWarningLevels) as error:
            wl.parse_warning_levels(raw)
        assert error.value.reason == reason

    def test_canonical_text(self):
        assert wl.dump_warning_levels({"1": 250.0, "2": 320.5}) == '{"1": 250, "2": 320.5}'


class TestThresholds:
    def test_characteristic_values_of_koblenz_give_reference_lines(self, koblenz):
        limits = wl.thresholds(koblenz["resource"])

        assert limits.kind == wl.CHARACTERISTIC_VALUES
        assert limits.reference_lines == {"MNW": 60.0, "MW": 214.0, "MHW": 588.0, "HSW": 650.0, "HHW": 949.0}
        assert limits.levels == {}

    def test_class_agrees_with_pegelonline(self, koblenz):
        """PEGELONLINE's own stateMnwMhw of the current measurement is the class we compute."""
        limits = wl.thresholds(koblenz["resource"])

        assert wl.classify(koblenz["current"]["value"], limits) == koblenz["current"]["stateMnwMhw"] == "high"

    @pytest.mark.parametrize("value, expected", [
        (-5, wl.LOW), (60, wl.LOW), (61, wl.NORMAL), (587.9, wl.NORMAL), (588, wl.HIGH), (1000, wl.HIGH)])
    def test_mnw_mhw_classes(self, koblenz, value, expected):
        assert wl.classify(value, wl.thresholds(koblenz["resource"])) == expected

    def test_meldestufen_win_over_characteristic_values(self, koblenz):
        resource = dict(koblenz["resource"], **{wl.WARNING_LEVELS_FIELD: '{"1": 250, "2": 320, "3": 400, "4": 480}'})
        limits = wl.thresholds(resource)

        assert limits.kind == wl.MELDESTUFEN
        assert limits.reference_lines["MHW"] == 588.0  # still drawn on the chart
        assert [wl.classify(v, limits) for v in (100, 250, 319, 320, 479.9, 480, 615)] == [
            wl.BELOW_1, "meldestufe_1", "meldestufe_1", "meldestufe_2", "meldestufe_3", "meldestufe_4",
            "meldestufe_4"]

    def test_partial_meldestufen(self):
        limits = wl.thresholds({wl.WARNING_LEVELS_FIELD: '{"2": 320, "3": 400}'})

        assert [wl.classify(v, limits) for v in (319, 320, 401)] == [wl.BELOW_1, "meldestufe_2", "meldestufe_3"]

    def test_own_sensor_without_thresholds(self):
        limits = wl.thresholds({})

        assert limits.kind == wl.NO_THRESHOLDS
        assert wl.classify(120.0, limits) == wl.UNKNOWN

    def test_no_reading_is_unknown(self, koblenz):
        assert wl.classify(None, wl.thresholds(koblenz["resource"])) == wl.UNKNOWN

    def test_garbage_characteristic_values_are_ignored(self):
        assert wl.thresholds({wl.CHARACTERISTIC_VALUES_FIELD: "not json"}).kind == wl.NO_THRESHOLDS
        assert wl.parse_characteristic_values('[{"shortname": "MNW", "value": null}, 3]') == {}

    def test_severity_orders_classes(self):
        assert wl.severity("meldestufe_4") > wl.severity("meldestufe_1") > wl.severity(wl.BELOW_1) \
            > wl.severity(wl.UNKNOWN)
        assert wl.severity(wl.HIGH) > wl.severity(wl.NORMAL)


class TestTrend:
    @pytest.mark.parametrize("values, expected", [
        ([615, 610, 605, 600], wl.RISING),
        ([600, 605, 610, 615], wl.FALLING),
        ([601, 600, 599, 600], wl.STEADY),
        ([602, 600], wl.STEADY),
        ([603, 600], wl.RISING),
        ([600, 600, 600, 600, 500], wl.STEADY),  # only the last four readings count
        ([600], None),
        ([], None),
    ])
    def test_trend(self, values, expected):
        assert wl.trend(values) == expected


class TestStaleness:
    def test_age_and_stale(self):
        now = dt.datetime(2026, 1, 16, 12, 0, tzinfo=dt.timezone.utc)
        reading = dt.datetime(2026, 1, 16, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 11:00 UTC

        age = wl.age_minutes(reading, now)

        assert age == 60.0
        assert not wl.is_stale(age, 60)
        assert wl.is_stale(60.1, 60)
        assert wl.is_stale(None, 60)


class TestResourceForm:
    @pytest.mark.parametrize("submitted, expected", [
        ([{"1": "250", "2": "", "3": " ", "4": "480"}], {"1": "250", "4": "480"}),
        ([{"1": "", "2": "", "3": "", "4": ""}], None),
        ('{"1": 250}', '{"1": 250}'),  # the API's JSON text passes unchanged
        ({"1": 250}, {"1": 250}),
    ])
    def test_from_form(self, submitted, expected):
        assert wl.from_form(submitted) == expected

    @pytest.mark.parametrize("value, expected", [
        ('{"1": 250, "3": 400.5}', {"1": "250", "2": "", "3": "400.5", "4": ""}),
        (None, {"1": "", "2": "", "3": "", "4": ""}),
        ([{"1": "400", "2": "300"}], {"1": "400", "2": "300", "3": "", "4": ""}),  # invalid: shown as typed
        ("kaputt", {"1": "", "2": "", "3": "", "4": ""}),
    ])
    def test_form_inputs(self, value, expected):
        assert wl.form_inputs(value) == expected
