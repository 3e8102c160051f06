"""A PEGELONLINE feed that fails (unreachable, slow, 5xx, not JSON, no list, empty, broken records) is reported
on the harvest job or its objects, in German, and never changes the datasets that are already there."""
import socket

import pytest

from ckanext.pegel.tests.harvesters.feed import KOBLENZ, create_source, datasets, gather_errors, object_errors, run

RHEIN = 12


@pytest.fixture
def harvested(feed, municipalities):
    """The Rhein stations of the sample, harvested once for Mayen-Koblenz (timeout 1 s)."""
    source = create_source(feed.url, {"waters": ["RHEIN"], "owner": "landkreis-mayen-koblenz", "timeout": 1})
    job, results = run(source)
    assert job["stats"]["added"] == RHEIN and not object_errors(results)
    return source


def snapshot():
    return {uuid: (d["state"], d["metadata_modified"]) for uuid, d in datasets().items()}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestFeedErrors:
    @pytest.mark.parametrize("failure, message", [
        ({"status": 503}, "mit HTTP-Status 503 beantwortet"),
        ({"status": 500, "body": "<html>Wartungsarbeiten</html>"}, "mit HTTP-Status 500 beantwortet"),
        ({"body": "<html>Wartungsarbeiten</html>"}, "ist kein gültiges JSON"),
        ({"body": '[{"uuid": "4c7d796a-39f2-4f26-97a9'}, "ist kein gültiges JSON"),  # cut off
        ({"body": '{"status": 400, "message": "bad request"}'}, "ist keine Liste von Pegeln"),
        ({"body": "[]"}, "hat keine Pegel geliefert"),
        ({"delay": 3}, "nicht innerhalb von 1 s geantwortet"),
    ], ids=["503", "500-html", "html", "truncated", "object", "empty", "timeout"])
    def test_a_broken_feed_is_a_job_error_and_changes_nothing(self, harvested, feed, failure, message):
        before = snapshot()

        feed.fail("/stations.json", **failure)
        job, results = run(harvested)

        assert job["status"] == "Finished"
        errors = gather_errors(job["id"])
        assert len(errors) == 1 and message in errors[0], errors
        assert results == {}  # no station imported, none withdrawn
        assert snapshot() == before

    def test_an_unreachable_server_is_a_job_error_and_changes_nothing(self, harvested, feed):
        before = snapshot()
        feed.close()

        job, results = run(harvested)

        [error] = gather_errors(job["id"])
        assert error.startswith("Der Server ist nicht erreichbar: http://127.0.0.1:")
        assert snapshot() == before

    def test_the_next_harvest_after_an_outage_finds_everything_unchanged(self, harvested, feed):
        feed.fail("/stations.json", status=502)
        run(harvested)
        feed.heal()

        job, results = run(harvested)

        assert job["stats"]["not modified"] == RHEIN and not gather_errors(job["id"])


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestBrokenStationRecords:
    def test_a_broken_station_is_skipped_with_an_object_error_and_the_others_import(self, feed, municipalities):
        feed.edit_station(KOBLENZ, lambda station: station.update(latitude="50,3586"))
        source = create_source(feed.url, {"waters": ["RHEIN"], "owner": "landkreis-mayen-koblenz"})

        job, results = run(source)

        assert job["stats"]["added"] == RHEIN - 1 and job["stats"]["errored"] == 1
        assert object_errors(results) == {KOBLENZ: [
            f"Der Eintrag des Pegels {KOBLENZ} ist fehlerhaft (latitude: keine Zahl) und wurde übersprungen; "
            "sein Datensatz bleibt unverändert"]}
        assert KOBLENZ not in datasets() and len(datasets()) == RHEIN - 1

    def test_a_station_that_breaks_later_keeps_its_dataset_unchanged(self, harvested, feed):
        before = snapshot()

        feed.edit_station(KOBLENZ, lambda station: station.update(water=None, longname=None))
        job, results = run(harvested)

        assert job["stats"]["errored"] == 1 and job["stats"]["deleted"] == 0
        assert list(object_errors(results)) == [KOBLENZ]
        assert snapshot() == before  # neither rewritten nor withdrawn
        feed.edit_station(KOBLENZ, lambda station: station.update(water={"shortname": "RHEIN"}, longname="KOBLENZ"))
        job, results = run(harvested)
        assert job["stats"]["errored"] == 0 and not object_errors(results)

    def test_records_without_uuid_or_listed_twice_are_job_errors(self, feed, municipalities):
        stations = feed.stations()
        feed.set_stations(stations + [{"shortname": "OHNE UUID", "water": {"shortname": "RHEIN"}}, stations[0], 42])
        source = create_source(feed.url, {"owner": "landkreis-mayen-koblenz"})

        job, results = run(source)

        errors = gather_errors(job["id"])
        assert sorted(errors) == sorted([
            "Pegel-Eintrag Nr. 26 hat keine gültige UUID und wurde übersprungen",
            f"Pegel {stations[0]['uuid']} ist doppelt aufgeführt; der erste Eintrag wurde verwendet",
            "Pegel-Eintrag Nr. 28 hat keine gültige UUID und wurde übersprungen"])
        assert job["stats"]["added"] == len(stations)
