"""A harvest job runs through the real gather and fetch consumers, talking over Redis."""

import pytest

from ckan.tests import factories, helpers
from ckanext.harvest import queue

from .fixtures import wait_until
from .harvester import FEED


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_job_runs_through_gather_and_fetch_consumers(stack_test_harvester, ckan_ini_with, ckan_process, tmp_path):
    queue.purge_queues()
    ini = ckan_ini_with(stack_test_harvester)
    ckan_process(ini, "harvester", "gather-consumer", log=tmp_path / "gather.log")
    ckan_process(ini, "harvester", "fetch-consumer", log=tmp_path / "fetch.log")
    sysadmin = factories.Sysadmin()
    org = factories.Organization()
    context = {"user": sysadmin["name"]}
    source = helpers.call_action("harvest_source_create", context, name="stack-test", title="Stack test",
                                 url="http://feed.invalid/stations", source_type="suedwest_test",
                                 owner_org=org["id"])

    # Creating a job puts it on the gather queue in Redis.
    job = helpers.call_action("harvest_job_create", context, source_id=source["id"])

    def imported():
        found = helpers.call_action("package_search", q=f"owner_org:{org['id']}", fq="+dataset_type:dataset")
        return found["count"] == len(FEED)

    if not wait_until(imported):
        logs = [(tmp_path / f"{name}.log").read_text(errors="replace")[-3000:] for name in ("gather", "fetch")]
        pytest.fail("the consumers did not import the feed:\n" + "\n".join(logs))
    helpers.call_action("harvest_jobs_run", context, source_id=source["id"])
    finished = helpers.call_action("harvest_job_show", context, id=job["id"])
    assert finished["status"] == "Finished"
    assert finished["stats"]["added"] == len(FEED)
    titles = {d["title"] for d in helpers.call_action("package_search", fq=f"owner_org:{org['id']}")["results"]}
    assert titles == {record["title"] for record in FEED}
