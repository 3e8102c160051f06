"""Harvesting a PEGELONLINE source again: an unchanged feed writes nothing, a changed station is updated
(its live series kept), a station gone from the feed is withdrawn without losing its readings."""
import datetime as dt

import pytest

from ckan.tests import factories, helpers

from ckanext.pegel.harvesters import mapping
from ckanext.pegel.ingest import store
from ckanext.pegel.tests.harvesters.feed import KOBLENZ, create_source, datasets, object_errors, run

RHEIN = 12


@pytest.fixture
def harvested(feed, municipalities):
    """The Rhein stations of the sample, harvested once for Mayen-Koblenz."""
    source = create_source(feed.url, {"waters": ["RHEIN"], "owner": "landkreis-mayen-koblenz"})
    job, results = run(source)
    assert job["stats"]["added"] == RHEIN and not object_errors(results)
    return source


def activities(dataset_id):
    return helpers.call_action("package_activity_list", id=dataset_id, limit=100)


def readings(resource_id):
    return helpers.call_action("datastore_search", resource_id=resource_id, sort="time")["records"]


def add_reading(dataset, value=413.0):
    series = mapping.series_resource(dataset)
    store.write_series(series["id"], [{"time": dt.datetime(2026, 1, 14, 0, 0, tzinfo=dt.timezone.utc),
                                       "value": value, "unit": "cm", "quality": "ok", "source": "pegelonline"}])
    return series["id"]


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestReharvest:
    def test_an_unchanged_feed_writes_nothing(self, harvested):
        before = datasets()
        activity_before = {uuid: len(activities(d["id"])) for uuid, d in before.items()}

        job, results = run(harvested)

        assert job["stats"] == {"added": 0, "updated": 0, "not modified": RHEIN, "errored": 0, "deleted": 0}
        after = datasets()
        assert {u: d["metadata_modified"] for u, d in after.items()} == \
               {u: d["metadata_modified"] for u, d in before.items()}
        assert {uuid: len(activities(d["id"])) for uuid, d in after.items()} == activity_before

    def test_a_changed_station_is_updated_and_keeps_its_series(self, harvested, feed):
        before = datasets()
        series_id = add_reading(before[KOBLENZ])

        def change(station):
            station["agency"] = "WSA RHEIN"
            station["timeseries"][0]["gaugeZero"]["value"] = 57.7
        feed.edit_station(KOBLENZ, change)
        job, results = run(harvested)

        assert job["stats"]["updated"] == 1 and job["stats"]["not modified"] == RHEIN - 1
        after = datasets()
        koblenz = after[KOBLENZ]
        assert "betreut von WSA RHEIN" in koblenz["notes"]
        assert koblenz["metadata_modified"] > before[KOBLENZ]["metadata_modified"]
        assert [r["id"] for r in koblenz["resources"]] == [r["id"] for r in before[KOBLENZ]["resources"]]
        assert mapping.series_resource(koblenz)["datastore_active"] is True
        assert '"value": 57.7' in mapping.series_resource(koblenz)[mapping.GAUGE_ZERO_FIELD]
        assert [r["value"] for r in readings(series_id)] == [413.0]
        others = {u: d["metadata_modified"] for u, d in after.items() if u != KOBLENZ}
        assert others == {u: d["metadata_modified"] for u, d in before.items() if u != KOBLENZ}

    def test_resources_added_by_a_steward_survive_an_update(self, harvested, feed):
        koblenz = datasets()[KOBLENZ]
        steward = factories.Sysadmin()
        helpers.call_action("resource_create", {"user": steward["name"]}, package_id=koblenz["id"], url="https://example.org/hochwasser.pdf",
                            name="Hochwasserplan", format="PDF")

        feed.edit_station(KOBLENZ, lambda station: station.update(km=591.5))
        run(harvested)

        names = [r["name"] for r in datasets()[KOBLENZ]["resources"]]
        assert "Hochwasserplan" in names and len(names) == len(mapping.ROLES) + 1

    def test_meldestufen_set_by_the_municipality_survive_an_update(self, harvested, feed):
        series_id = mapping.series_resource(datasets()[KOBLENZ])["id"]
        steward = factories.Sysadmin()
        helpers.call_action("resource_patch", {"user": steward["name"]}, id=series_id,
                            pegel_warning_levels='{"1": 500, "2": 600}')

        feed.edit_station(KOBLENZ, lambda station: station.update(km=591.5))
        job, _ = run(harvested)

        assert job["stats"]["updated"] == 1
        assert mapping.series_resource(datasets()[KOBLENZ])["pegel_warning_levels"] == '{"1": 500, "2": 600}'

    def test_a_station_gone_from_the_feed_is_withdrawn_with_its_readings_kept(self, harvested, feed):
        koblenz = datasets()[KOBLENZ]
        series_id = add_reading(koblenz)

        feed.set_stations([s for s in feed.stations() if s["uuid"] != KOBLENZ])
        job, results = run(harvested)

        assert job["stats"]["deleted"] == 1 and job["stats"]["not modified"] == RHEIN - 1
        assert KOBLENZ not in datasets()  # not found by search (nor in the catalog)
        withdrawn = helpers.call_action("package_show", id=koblenz["id"])  # sysadmins still see it
        assert withdrawn["state"] == "deleted"
        assert [r["value"] for r in readings(series_id)] == [413.0]

    def test_a_withdrawn_station_that_comes_back_is_the_same_dataset_again(self, harvested, feed):
        koblenz = datasets()[KOBLENZ]
        series_id = add_reading(koblenz)
        stations = feed.stations()
        feed.set_stations([s for s in stations if s["uuid"] != KOBLENZ])
        run(harvested)

        feed.set_stations(stations)
        job, results = run(harvested)

        assert job["stats"]["updated"] == 1, job["stats"]
        back = datasets()[KOBLENZ]
        assert back["id"] == koblenz["id"] and back["state"] == "active"
        assert mapping.series_resource(back)["id"] == series_id
        assert [r["value"] for r in readings(series_id)] == [413.0]
        # and it is current again: the next harvest finds it unchanged
        job, results = run(harvested)
        assert job["stats"]["not modified"] == RHEIN

    def test_a_station_of_another_water_after_a_new_filter_is_withdrawn(self, harvested, feed):
        """Narrowing the source's filter withdraws what no longer matches, like a station gone."""
        helpers.call_action("harvest_source_patch", {"user": factories.Sysadmin()["name"]}, id=harvested["id"],
                            config='{"stations": ["%s"], "owner": "landkreis-mayen-koblenz"}' % KOBLENZ)

        job, results = run(harvested)

        assert job["stats"]["deleted"] == RHEIN - 1
        assert list(datasets()) == [KOBLENZ]
