"""A dataset the harvester creates is indexed once, completely; other observers keep CKAN's notifications; its
catalog fragment is rendered by a background job after the Solr commit."""
import pytest

import ckan.plugins as plugins
from ckan.lib import jobs
from ckan.lib.search.index import PackageSearchIndex
from ckan.tests import factories, helpers

from ckanext.pegel.harvesters.indexing import new_datasets_indexed_once
from ckanext.pegel.tests.harvesters.feed import KOBLENZ, create_source, datasets, run
from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.test_catalog_cache import fragment_keys


@pytest.fixture
def indexed(monkeypatch):
    """The ids of the datasets CKAN sends to Solr, once per indexing."""
    ids = []
    index_package = PackageSearchIndex.index_package

    def counting(self, pkg_dict, defer_commit=False):
        ids.append(pkg_dict["id"])
        return index_package(self, pkg_dict, defer_commit)

    monkeypatch.setattr(PackageSearchIndex, "index_package", counting)
    return ids


def create_with_resources(owner_org):
    return dcatde.Dataset(owner_org=owner_org, tags=[{"name": "Pegel"}, {"name": "Mosel"}], resources=[
        {"name": "Zeitreihe", "url": "http://example.org/a.csv", "format": "CSV"},
        {"name": "Aktuell", "url": "http://example.org/b.json", "format": "JSON"}])


def search(dataset_id):
    [found] = helpers.call_action("package_search", fq=f'id:"{dataset_id}"')["results"]
    return found


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestIndexedOnce:
    def test_ckan_alone_indexes_a_new_dataset_twice(self, indexed):
        # What the listener works around; when CKAN stops doing it, new_datasets_indexed_once can go.
        dataset = create_with_resources(factories.Organization()["id"])

        assert indexed.count(dataset["id"]) == 2

    def test_a_new_dataset_is_indexed_once_with_its_resources_and_tags(self, indexed):
        org = factories.Organization()
        with new_datasets_indexed_once():
            dataset = create_with_resources(org["id"])

        assert indexed.count(dataset["id"]) == 1
        found = search(dataset["id"])
        assert sorted(resource["format"] for resource in found["resources"]) == ["CSV", "JSON"]
        assert sorted(tag["name"] for tag in found["tags"]) == ["Mosel", "Pegel"]
        by_format = helpers.call_action("package_search", fq="res_format:JSON tags:Mosel")["results"]
        assert [d["id"] for d in by_format] == [dataset["id"]]

    def test_a_changed_dataset_is_still_indexed(self, indexed):
        dataset = create_with_resources(factories.Organization()["id"])
        resources = dataset["resources"] + [{"name": "Kennwerte", "url": "http://example.org/c.xml", "format": "XML"}]
        indexed.clear()

        with new_datasets_indexed_once():
            helpers.call_action("package_patch", {"user": factories.Sysadmin()["name"]}, id=dataset["id"],
                                resources=resources)

        assert indexed.count(dataset["id"]) == 1
        assert "XML" in {resource["format"] for resource in search(dataset["id"])["resources"]}

    def test_outside_the_block_ckan_indexes_as_before(self, indexed):
        org = factories.Organization()
        with new_datasets_indexed_once():
            pass

        dataset = create_with_resources(org["id"])

        assert indexed.count(dataset["id"]) == 2

    @pytest.mark.ckan_config("ckan.datapusher.url", "http://127.0.0.1:9")  # never called here
    @pytest.mark.ckan_config("ckan.datapusher.api_token", "unused")
    @pytest.mark.usefixtures("ckan_config")
    def test_another_observer_of_resource_changes_gets_every_notification(self, indexed):
        org = factories.Organization()
        plugins.load("datapusher")  # observes resource URL changes (IResourceUrlChange)
        try:
            with new_datasets_indexed_once():
                dataset = create_with_resources(org["id"])
        finally:
            plugins.unload("datapusher")

        assert indexed.count(dataset["id"]) == 2


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_catalog_fragments_of_harvested_stations_come_from_a_background_job_after_the_commit(feed, municipalities):
    source = create_source(feed.url, {"stations": [KOBLENZ], "owner": "landkreis-mayen-koblenz"})
    jobs.get_queue().empty()

    run(source)

    station = datasets()[KOBLENZ]
    assert fragment_keys(station) == []  # not rendered during the import
    [job] = [job for job in jobs.get_queue().jobs if job.func_name.endswith("catalog_cache.render_fragments")]
    assert list(job.args) == [[station["id"]]]
    assert job.perform() == 1
    assert len(fragment_keys(station)) == 1
