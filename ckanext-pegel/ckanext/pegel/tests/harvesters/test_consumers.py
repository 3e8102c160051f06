"""A PEGELONLINE harvest job runs through the real gather and fetch consumer processes (over Redis), the way
the platform runs it; their problems are recorded in German although the consumers serve no web request."""
import pytest

import ckan.model as model
from ckan.tests import factories, helpers
from ckanext.harvest import queue
from ckanext.harvest.model import HarvestObject

from ckanext.pegel.tests.harvesters.feed import KOBLENZ
from ckanext.suedwest.tests.fixtures import wait_until

RHEIN = 12


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_a_job_runs_through_the_gather_and_fetch_consumers(feed, municipalities, ckan_ini_with, ckan_process,
                                                           tmp_path):
    feed.edit_station(KOBLENZ, lambda station: station.update(longitude="7,6047"))
    queue.purge_queues()
    ini = ckan_ini_with()
    ckan_process(ini, "harvester", "gather-consumer", log=tmp_path / "gather.log")
    ckan_process(ini, "harvester", "fetch-consumer", log=tmp_path / "fetch.log")
    sysadmin = factories.Sysadmin()
    source = helpers.call_action("harvest_source_create", {"user": sysadmin["name"]}, name="pegelonline",
                                 title="PEGELONLINE", url=feed.url, source_type="pegelonline",
                                 owner_org=municipalities["kaiserslautern"]["id"],
                                 config='{"waters": ["RHEIN"], "owner": "landkreis-mayen-koblenz"}')

    job = helpers.call_action("harvest_job_create", {"user": sysadmin["name"]}, source_id=source["id"])

    def finished():
        # What the scheduler (`ckan harvester run`) does: mark jobs whose objects are all done as finished. Only
        # once gathering and fetching are over: harvest_jobs_run also re-sends every WAITING object that is not in
        # Redis, which includes one a consumer has just taken, and that object would then be fetched twice.
        shown = helpers.call_action("harvest_job_show", {"ignore_auth": True}, id=job["id"])
        pending = model.Session.query(HarvestObject).filter(
            HarvestObject.harvest_job_id == job["id"], HarvestObject.state.in_(["WAITING", "FETCH", "IMPORT"])).count()
        if not shown["gather_finished"] or pending:
            return False
        helpers.call_action("harvest_jobs_run", {"ignore_auth": True}, source_id=source["id"])
        return helpers.call_action("harvest_job_show", {"ignore_auth": True}, id=job["id"])["status"] == "Finished"

    if not wait_until(finished, timeout=120):
        logs = [(tmp_path / f"{name}.log").read_text(errors="replace")[-3000:] for name in ("gather", "fetch")]
        pytest.fail("the consumers did not import the feed:\n" + "\n".join(logs))
    finished = helpers.call_action("harvest_job_show", {"ignore_auth": True}, id=job["id"])
    assert (finished["stats"]["added"], finished["stats"]["errored"]) == (RHEIN - 1, 1)
    report = helpers.call_action("harvest_job_report", {"ignore_auth": True}, id=job["id"])
    [errors] = report["object_errors"].values()
    assert [error["message"] for error in errors["errors"]] == [
        f"Der Eintrag des Pegels {KOBLENZ} ist fehlerhaft (longitude: keine Zahl) und wurde übersprungen; "
        "sein Datensatz bleibt unverändert"]
    # imported by the consumers and searchable: the deferred Solr commit happened at the end of the job
    found = helpers.call_action("package_search", q="Pegel Rhein", rows=100)
    assert found["count"] == RHEIN - 1
