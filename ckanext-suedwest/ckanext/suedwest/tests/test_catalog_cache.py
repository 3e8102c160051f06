"""Turtle catalog pages assembled from cached dataset fragments say exactly what an uncached page says."""
import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS

import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckan.lib.redis import connect_to_redis
from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.test_profiles import FULL


def catalog(app):
    response = app.get("/catalog.ttl")
    assert response.status_code == 200
    return Graph().parse(data=response.get_data(as_text=True), format="turtle")


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestCatalogCache:
    def test_cached_page_is_the_same_graph_as_an_uncached_one(self, app, monkeypatch):
        org = factories.Organization()
        helpers.call_action("package_create", {"user": factories.Sysadmin()["name"]}, name="full",
                            owner_org=org["id"], **FULL)
        dcatde.Dataset(owner_org=org["id"], title="Straßen „Kusel“\nzweite Zeile")

        cold, warm = catalog(app), catalog(app)
        monkeypatch.setitem(tk.config, "ckanext.suedwest.catalog_cache_ttl", 0)
        uncached = catalog(app)

        assert isomorphic(cold, uncached)
        assert isomorphic(warm, uncached)

    def test_an_edit_shows_at_once(self, app):
        sysadmin = factories.Sysadmin()
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"], title="Alt")
        catalog(app)

        helpers.call_action("package_patch", {"user": sysadmin["name"]}, id=dataset["id"], title="Neu")

        titles = set(catalog(app).objects(None, DCTERMS.title))
        assert Literal("Neu") in titles and Literal("Alt") not in titles

    def test_saving_a_public_dataset_prerenders_its_fragment(self):
        sysadmin = factories.Sysadmin()
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"], title="Alt")
        assert len(fragment_keys(dataset)) == 1

        edited = helpers.call_action("package_patch", {"user": sysadmin["name"]}, id=dataset["id"], title="Neu")

        [key] = [key for key in fragment_keys(dataset) if key.endswith(edited["metadata_modified"].encode())]
        assert "Neu" in connect_to_redis().get(key).decode("utf-8")

    def test_serving_a_fragment_renews_its_expiry(self, app):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"])
        [key] = fragment_keys(dataset)
        redis = connect_to_redis()
        redis.expire(key, 60)

        catalog(app)

        assert redis.ttl(key) > 60

    def test_private_datasets_get_no_fragment(self):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"], private=True)

        assert fragment_keys(dataset) == []

    def test_rebuilding_the_search_index_warms_the_catalog(self, app):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"])
        redis = connect_to_redis()
        redis.delete(*fragment_keys(dataset))

        search.rebuild()

        assert len(fragment_keys(dataset)) == 1


def fragment_keys(dataset):
    return connect_to_redis().keys(f"suedwest:catalog-ttl:*:{dataset['id']}:*")
