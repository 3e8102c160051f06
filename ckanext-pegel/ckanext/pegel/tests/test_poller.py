"""The PEGELONLINE poller feeds the current measurements of the harvested stations into their series tables:
in UTC, each reading once, withdrawn stations left alone, a failing server reported without writing anything."""
import json
import threading
import time

import pytest

from ckan.cli.cli import ckan as ckan_command
from ckan.tests import helpers

from ckanext.pegel import poller
from ckanext.pegel.harvesters import mapping
from ckanext.pegel.tests.harvesters.feed import (KOBLENZ, KOBLENZ_STATION, create_source, datasets,  # noqa: F401
                                                 feed, municipalities, pegelonline_fixtures, run)

MAINZ = "a37a9aa3-45e9-4d90-9df6-109f3a28a5af"
RHEIN = 12


@pytest.fixture
def source(feed, municipalities):
    """A source of the Rhein stations of the sample, for Mayen-Koblenz."""
    return create_source(feed.url, {"waters": ["RHEIN"], "owner": "landkreis-mayen-koblenz"})


@pytest.fixture
def harvested(source):
    """The source harvested once; the series resource ids of its stations."""
    run(source)
    return {uuid: mapping.series_resource(d)["id"] for uuid, d in datasets().items()}


def readings(resource_id):
    records = helpers.call_action("datastore_search", resource_id=resource_id, sort="time")["records"]
    return [{key: record[key] for key in ("time", "value", "unit", "quality", "source")} for record in records]


def set_current(feed, uuid, timestamp, value):
    def change(station):
        station["timeseries"][0]["currentMeasurement"].update(timestamp=timestamp, value=value)
    feed.edit_station(uuid, change)


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestPoller:
    def test_the_current_measurement_of_every_station_is_stored_in_utc(self, harvested):
        report = poller.poll_once()

        assert (report.stations, report.readings, report.inserted, report.errors) == (RHEIN, RHEIN, RHEIN, [])
        # MAINZ: {"timestamp": "2026-09-23T21:45:00+02:00", "value": 105.0} in the sample
        assert readings(harvested[MAINZ]) == [{"time": "2026-09-23T19:45:00+00:00", "value": 105.0, "unit": "cm",
                                               "quality": "ok", "source": "pegelonline"}]
        assert all(len(readings(series_id)) == 1 for series_id in harvested.values())

    def test_polling_again_stores_each_reading_once(self, harvested, feed):
        poller.poll_once()

        again = poller.poll_once()
        set_current(feed, MAINZ, "2026-09-23T22:00:00+02:00", 104.0)
        newer = poller.poll_once()

        assert (again.readings, again.inserted) == (RHEIN, 0)
        assert (newer.readings, newer.inserted) == (RHEIN, 1)
        assert [(r["time"], r["value"]) for r in readings(harvested[MAINZ])] == [
            ("2026-09-23T19:45:00+00:00", 105.0), ("2026-09-23T20:00:00+00:00", 104.0)]

    def test_a_station_the_list_lacks_is_asked_for_alone(self, harvested, feed, pegelonline_fixtures):
        feed.edit_station(KOBLENZ, lambda station: station["timeseries"][0].pop("currentMeasurement"))
        single = feed.directory / "stations" / KOBLENZ / "W"
        single.mkdir(parents=True)
        station = json.loads((pegelonline_fixtures / KOBLENZ_STATION).read_text())
        (single / "currentmeasurement.json").write_text(json.dumps(station["timeseries"][0]["currentMeasurement"]))

        report = poller.poll_once()

        assert report.inserted == RHEIN and not report.errors
        # {"timestamp": "2026-01-16T00:00:00+01:00", "value": 615.0}: winter time, one hour ahead of UTC
        assert [(r["time"], r["value"]) for r in readings(harvested[KOBLENZ])] == [("2026-01-15T23:00:00+00:00", 615.0)]
        assert any(f"/stations/{KOBLENZ}/W/currentmeasurement.json" in path for path in feed.requests)

    def test_withdrawn_stations_are_not_polled(self, source, harvested, feed):
        feed.set_stations([s for s in feed.stations() if s["uuid"] != KOBLENZ])
        run(source)

        report = poller.poll_once()

        assert report.stations == RHEIN - 1
        assert readings(harvested[KOBLENZ]) == []

    def test_a_failing_server_is_reported_and_nothing_is_written(self, harvested, feed):
        feed.fail("/stations.json", status=503)

        report = poller.poll_once()

        assert report.inserted == 0 and len(report.errors) == 1 and "503" in report.errors[0]
        assert all(readings(series_id) == [] for series_id in harvested.values())

    def test_a_measurement_without_time_zone_is_refused(self, harvested, feed):
        set_current(feed, MAINZ, "2026-09-23T21:45:00", 105.0)

        report = poller.poll_once()

        assert report.inserted == RHEIN - 1
        assert report.errors == [f"station {MAINZ}: unusable measurement (timestamp without time zone: "
                                 "2026-09-23T21:45:00)"]


    def test_the_long_running_poller_keeps_polling_through_failures_until_stopped(self, harvested, feed):
        feed.fail("/stations.json", status=503)
        stop = threading.Event()
        thread = threading.Thread(target=poller.run, args=(0.2, stop), daemon=True)
        thread.start()
        try:
            assert _eventually(lambda: sum("/stations.json" in path for path in feed.requests) >= 2)
            feed.heal()
            assert _eventually(lambda: len(readings(harvested[MAINZ])) == 1)
        finally:
            stop.set()
            thread.join(timeout=10)
        assert not thread.is_alive()


def _eventually(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.usefixtures("clean_db", "clean_index", "with_extended_cli")
class TestPollCommand:
    def test_poll_once(self, cli, harvested):
        result = cli.invoke(ckan_command, ["pegel", "poll", "--once"])

        assert result.exit_code == 0, result.output
        assert f"{RHEIN} stations, {RHEIN} readings, {RHEIN} new" in result.output

    def test_poll_once_fails_when_the_server_fails(self, cli, harvested, feed):
        feed.fail("/stations.json", body="<html>")

        result = cli.invoke(ckan_command, ["pegel", "poll", "--once"])

        assert result.exit_code == 1
        assert "json" in result.output


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_the_poller_slims_series_tables_made_before_they_lost_their_fulltext_indexes(harvested, monkeypatch):
    from ckanext.pegel.tests.test_series_tables import fulltext_indexes, stock_table

    old_table = harvested[MAINZ]
    stock_table(old_table)  # as the harvester made series tables before
    monkeypatch.setattr(poller, "_slimmed", set())
    assert len(fulltext_indexes(old_table)) == 4

    poller.poll_once()

    assert fulltext_indexes(old_table) == []
    assert len(readings(old_table)) == 1
