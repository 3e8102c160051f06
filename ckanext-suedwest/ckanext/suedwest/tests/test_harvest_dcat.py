"""Harvesting DCAT-AP.de into the schema with ckanext-dcat's RDF harvester and the dcat_ap_de profile."""
import json
import pytest

import ckan.plugins as plugins
from ckan.tests import factories, helpers
from ckanext.harvest.model import HarvestJob
from ckanext.harvest.tests.lib import run_harvest_job

from ckanext.suedwest.tests import factories as dcatde


@pytest.fixture
def official_examples(dcat_ap_de_reference_dir):
    """The official DCAT-AP.de example documents, served over HTTP."""
    return dcat_ap_de_reference_dir / "examples"


def harvest(url, owner_org, sysadmin):
    """Create a DCAT RDF harvest source and run one job in process (gather, fetch, import)."""
    context = {"user": sysadmin["name"]}
    source = helpers.call_action("harvest_source_create", context, name=f"dcat-{owner_org[:8]}", title="DCAT",
                                 url=url, source_type="dcat_rdf", owner_org=owner_org,
                                 config=json.dumps({"rdf_format": "text/turtle"}))
    job = helpers.call_action("harvest_job_create", context, source_id=source["id"], run=False)
    results = run_harvest_job(HarvestJob.get(job["id"]), plugins.get_plugin("dcat_rdf_harvester"))
    return list(results.values())


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestOfficialExamples:
    def test_simple_example_imports_into_the_schema(self, serve_directory, official_examples):
        base = serve_directory(official_examples)
        org, sysadmin = factories.Organization(), factories.Sysadmin()

        results = harvest(f"{base}/dcat_ap_de-2.0-RefImp_TTL_SIMPLE.ttl", org["id"], sysadmin)

        assert [r["state"] for r in results] == ["COMPLETE"], [[e.message for e in r["errors"]] for r in results]
        dataset = results[0]["dataset"]
        assert dataset["owner_org"] == org["id"]
        assert dataset["title"] == "Badegewässer (Daten) Hamburg"
        assert dataset["contributor_id"] == "http://dcat-ap.de/def/contributors/transparenzportalHamburg"
        assert dataset["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        assert dataset["license_attribution_by_text"].startswith("Freie und Hansestadt Hamburg")
        assert dataset["contact"][0]["email"] == "thomas.meister@example.com"

    def test_advanced_example_maps_licences_themes_and_geocoding(self, serve_directory, official_examples):
        base = serve_directory(official_examples)
        org, sysadmin = factories.Organization(), factories.Sysadmin()

        results = harvest(f"{base}/dcat_ap_de-2.0-RefImp_TTL_ADVANCED.ttl", org["id"], sysadmin)

        assert {r["state"] for r in results} == {"COMPLETE"}, [[e.message for e in r["errors"]] for r in results]
        datasets = [r["dataset"] for r in results]
        hamburg = [d for d in datasets if d.get("contributor_id", "").endswith("transparenzportalHamburg")]
        assert hamburg, [d.get("contributor_id") for d in datasets]
        dataset = hamburg[0]
        assert dataset["license_id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        assert dataset["license_attribution_by_text"].startswith("Freie und Hansestadt Hamburg")
        assert dataset["political_geocoding_level_uri"] == "http://dcat-ap.de/def/politicalGeocoding/Level/state"
        assert dataset["political_geocoding_uri"] == ["http://dcat-ap.de/def/politicalGeocoding/stateKey/02"]
        assert set(dataset["theme"]) <= {"http://publications.europa.eu/resource/authority/data-theme/ENVI",
                                         "http://publications.europa.eu/resource/authority/data-theme/GOVE"}

    def test_unsupported_properties_are_reported_on_the_harvest_object(self, serve_directory, official_examples):
        base = serve_directory(official_examples)
        org, sysadmin = factories.Organization(), factories.Sysadmin()

        results = harvest(f"{base}/dcat_ap_de-2.0-RefImp_TTL_ADVANCED.ttl", org["id"], sysadmin)

        messages = [error.message for result in results for error in result["errors"]]
        assert any("dcatde:legalBasis" in message for message in messages), messages
        assert all(result["state"] == "COMPLETE" for result in results)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_unknown_code_list_values_are_reported_not_silently_dropped(serve_directory, tmp_path):
    (tmp_path / "catalog.ttl").write_text('''
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<http://example.org/catalog> a dcat:Catalog ; dcat:dataset <http://example.org/dataset/1> .
<http://example.org/dataset/1> a dcat:Dataset ; dct:title "Baustellen" ; dct:description "Aktuelle Baustellen" ;
    dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN>,
               <http://example.org/theme/made-up> ;
    dct:accrualPeriodicity <http://example.org/frequency/sometimes> ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessURL <http://example.org/baustellen.csv> ;
        dct:license <http://dcat-ap.de/def/licenses/dl-zero-de/2.0> ;
        dct:format <http://example.org/format/made-up> ] .
''', encoding="utf-8")
    base = serve_directory(tmp_path)
    org, sysadmin = factories.Organization(), factories.Sysadmin()

    [result] = harvest(f"{base}/catalog.ttl", org["id"], sysadmin)

    assert result["state"] == "COMPLETE"
    assert result["dataset"]["theme"] == ["http://publications.europa.eu/resource/authority/data-theme/TRAN"]
    messages = " | ".join(error.message for error in result["errors"])
    for unknown in ("http://example.org/theme/made-up", "http://example.org/frequency/sometimes",
                    "http://example.org/format/made-up"):
        assert unknown in messages


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_our_own_catalog_harvests_back_into_the_schema(app, serve_directory, tmp_path):
    publisher_org, harvesting_org, sysadmin = factories.Organization(), factories.Organization(), factories.Sysadmin()
    original = dcatde.Dataset(owner_org=publisher_org["id"], title="Pegelstände der Mosel",
                              license_id=dcatde.DL_BY, license_attribution_by_text="Stadt Trier",
                              contributor_id="http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz",
                              political_geocoding_level_uri="http://dcat-ap.de/def/politicalGeocoding/Level/municipality",
                              political_geocoding_uri=["http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07211000"],
                              resources=[{"url": "http://example.org/pegel.csv", "format": "CSV", "name": "Messwerte"}])
    (tmp_path / "catalog.ttl").write_bytes(app.get("/catalog.ttl").data)
    base = serve_directory(tmp_path)

    [result] = harvest(f"{base}/catalog.ttl", harvesting_org["id"], sysadmin)

    assert result["state"] == "COMPLETE", [error.message for error in result["errors"]]
    harvested = result["dataset"]
    for field in ("title", "notes", "theme", "license_id", "license_attribution_by_text", "contributor_id",
                  "political_geocoding_level_uri", "political_geocoding_uri"):
        assert harvested[field] == original[field], field
    assert [(r["url"], r["format"], r["name"]) for r in harvested["resources"]] == [
        ("http://example.org/pegel.csv", "CSV", "Messwerte")]
