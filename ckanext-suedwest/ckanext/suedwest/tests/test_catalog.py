"""The DCAT endpoints GovData harvests: /catalog.* with hydra paging and modified_since, /dataset/<id>.*,
content negotiation; only public, active datasets ever appear."""
import time

import pytest
from rdflib import Literal, Namespace
from rdflib.namespace import DCTERMS, RDF

from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.rdf import graph_of, identifiers

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FORMATS = {"ttl": ("text/turtle", "turtle"), "rdf": ("application/rdf+xml", "xml"),
           "xml": ("application/rdf+xml", "xml"), "jsonld": ("application/ld+json", "json-ld")}



@pytest.mark.usefixtures("clean_db", "clean_index")
class TestCatalog:
    @pytest.mark.parametrize("extension", sorted(FORMATS))
    def test_every_serialisation_lists_the_dataset(self, app, extension):
        org = factories.Organization()
        dataset = dcatde.Dataset(owner_org=org["id"], title="Pegelstände der Mosel")
        content_type, rdf_format = FORMATS[extension]

        response = app.get(f"/catalog.{extension}")

        assert response.headers["Content-Type"].startswith(content_type)
        graph = graph_of(response, rdf_format)
        assert identifiers(graph) == {dataset["id"]}
        assert (None, DCTERMS.title, Literal("Pegelstände der Mosel")) in graph

    def test_private_draft_and_deleted_datasets_never_appear(self, app):
        org = factories.Organization()
        public = dcatde.Dataset(owner_org=org["id"])
        dcatde.Dataset(owner_org=org["id"], private=True)
        dcatde.Dataset(owner_org=org["id"], state="draft")
        deleted = dcatde.Dataset(owner_org=org["id"])
        helpers.call_action("package_delete", {"user": factories.Sysadmin()["name"]}, id=deleted["id"])

        graph = graph_of(app.get("/catalog.ttl"), "turtle")

        assert identifiers(graph) == {public["id"]}

    @pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", "2")
    def test_hydra_paging_walks_through_every_dataset(self, app):
        org = factories.Organization()
        created = {dcatde.Dataset(owner_org=org["id"])["id"] for _ in range(5)}

        seen, url, pages = set(), "/catalog.ttl", 0
        while url:
            graph = graph_of(app.get(url), "turtle")
            page_ids = identifiers(graph)
            assert len(page_ids) <= 2
            seen |= page_ids
            pages += 1
            collection = next(graph.subjects(RDF.type, HYDRA.PagedCollection))
            assert int(graph.value(collection, HYDRA.totalItems)) == 5
            next_page = graph.value(collection, HYDRA.nextPage)
            url = str(next_page).replace("http://test.ckan.net", "") if next_page else None

        assert pages == 3
        assert seen == created

    def test_modified_since_returns_only_newer_datasets(self, app):
        org = factories.Organization()
        older = dcatde.Dataset(owner_org=org["id"])
        time.sleep(1.1)
        newer = dcatde.Dataset(owner_org=org["id"])
        since = newer["metadata_modified"][:19]  # seconds precision, before the newer dataset's microseconds

        for value in (since, f"{since}Z", f"{since}+00:00"):
            graph = graph_of(app.get("/catalog.ttl", query_string={"modified_since": value}), "turtle")
            assert identifiers(graph) == {newer["id"]}, value
        assert older["id"] in identifiers(graph_of(app.get("/catalog.ttl?modified_since=2000-01-01"), "turtle"))

    def test_bad_modified_since_is_a_client_error(self, app):
        response = app.get("/catalog.ttl?modified_since=gestern")

        assert response.status_code in (400, 409)


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestDatasetEndpoints:
    @pytest.mark.parametrize("extension", ["ttl", "rdf", "jsonld"])
    def test_dataset_serialisations(self, app, extension):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"], title="Baustellen in Kusel")
        _, rdf_format = FORMATS[extension]

        graph = graph_of(app.get(f"/dataset/{dataset['name']}.{extension}"), rdf_format)

        assert identifiers(graph) == {dataset["id"]}

    def test_content_negotiation_on_the_dataset_page(self, app):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"])

        response = app.get(f"/dataset/{dataset['name']}", headers={"Accept": "text/turtle"})

        assert response.headers["Content-Type"].startswith("text/turtle")
        assert identifiers(graph_of(response, "turtle")) == {dataset["id"]}

    def test_private_and_deleted_datasets_are_not_served(self, app):
        org = factories.Organization()
        private = dcatde.Dataset(owner_org=org["id"], private=True)
        deleted = dcatde.Dataset(owner_org=org["id"])
        helpers.call_action("package_delete", {"user": factories.Sysadmin()["name"]}, id=deleted["id"])

        for dataset in (private, deleted):
            response = app.get(f"/dataset/{dataset['id']}.ttl")
            assert response.status_code in (403, 404)
            assert not response.headers["Content-Type"].startswith("text/turtle")

    def test_identifier_is_stable_across_edits(self, app):
        sysadmin = factories.Sysadmin()
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"], title="Alt")
        before = graph_of(app.get(f"/dataset/{dataset['id']}.ttl"), "turtle")

        helpers.call_action("package_patch", {"user": sysadmin["name"]}, id=dataset["id"], title="Neu")
        after = graph_of(app.get(f"/dataset/{dataset['id']}.ttl"), "turtle")

        assert identifiers(before) == identifiers(after) == {dataset["id"]}
        modified = [max(g.objects(None, DCTERMS.modified)) for g in (before, after)]
        assert modified[1] >= modified[0]
