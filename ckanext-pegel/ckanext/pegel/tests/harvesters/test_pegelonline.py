"""The PEGELONLINE harvester against a local server with the PEGELONLINE samples, through ckanext-harvest's
gather, fetch and import stages: what the first harvest creates, who owns it, and what a re-harvest does."""
import json

import pytest

from ckan.tests import factories, helpers

from ckanext.pegel import series
from ckanext.pegel.harvesters import mapping
from ckanext.pegel.tests.harvesters.feed import KOBLENZ, create_source, datasets, gather_errors, object_errors, run

RHEIN_MOSEL = 20  # stations of the sample on the Rhein (12) and the Mosel (8)
GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"
MAYEN_KOBLENZ = ["4c7d796a-39f2-4f26-97a9-3aad01713e29", "9dbcac54-db55-4d24-88b2-74a0d75a68c4",  # Koblenz, K. UP
                 "d6dc44d1-63ac-4871-b175-60ac4040069a", "dc407f1e-e25f-4995-9feb-5bacc8658149",  # Braubach, Neuwied
                 "5735892a-ec65-4b29-97c5-50939aa9584e", "6b6b31e2-e5c7-4c85-8405-b8d0b6e158c4"]  # Andernach, Lahnstein
RUWER = "abd34ee6-a578-4639-b73d-fa4e08f40345"  # on the Mosel, inside the Eifelkreis' box


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestFirstHarvest:
    def test_one_dataset_per_station_owned_by_the_configured_municipality(self, feed, municipalities):
        owner = municipalities["landkreis-mayen-koblenz"]
        source = create_source(feed.url, {"waters": ["RHEIN", "MOSEL"], "owner": owner["name"]})

        job, results = run(source)

        assert job["status"] == "Finished" and not gather_errors(job["id"]), gather_errors(job["id"])
        assert not object_errors(results)
        assert job["stats"]["added"] == RHEIN_MOSEL
        found = datasets()
        assert len(found) == RHEIN_MOSEL
        assert {d["owner_org"] for d in found.values()} == {owner["id"]}
        # Servers may ignore the filter (this one does): the harvester applies it too, and it asked for it.
        assert "waters=MOSEL%2CRHEIN" in feed.requests[0] or "waters=MOSEL,RHEIN" in feed.requests[0]

    def test_the_dataset_describes_the_station(self, feed, municipalities):
        source = create_source(feed.url, {"stations": [KOBLENZ], "owner": "landkreis-mayen-koblenz"})

        run(source)

        dataset = datasets()[KOBLENZ]
        assert dataset["title"] == "Pegel Koblenz (Rhein)"
        assert dataset["identifier"] == KOBLENZ
        assert dataset["theme"] == ["http://publications.europa.eu/resource/authority/data-theme/ENVI"]
        assert dataset["license_id"] == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
        assert "km 591,49" in dataset["notes"]
        [area] = dataset["spatial_coverage"]
        assert json.loads(area["centroid"]) == {"type": "Point", "coordinates": [7.60474054165621, 50.35863947564839]}
        # political geocoding comes from the owning municipality
        assert dataset["political_geocoding_uri"] == [GEOCODING + "districtKey/07137"]
        assert dataset["political_geocoding_level_uri"] == GEOCODING + "Level/administrativeDistrict"
        roles = {r[mapping.ROLE_FIELD]: r for r in dataset["resources"]}
        assert set(roles) == set(mapping.ROLES)
        assert roles["current"]["url"] == f"{feed.url}/stations/{KOBLENZ}/W/currentmeasurement.json"
        assert roles["station"]["url"].startswith(f"{feed.url}/stations/{KOBLENZ}.json")
        assert roles["characteristic_values"]["url"].startswith(f"{feed.url}/stations/{KOBLENZ}/W.json")
        live = roles["series"]
        assert live[series.STATION_FIELD] == KOBLENZ and live[series.SERIES_FIELD] == "W"
        assert live["datastore_active"] is True
        assert live["url"].endswith(f"/datastore/dump/{live['id']}")
        table = helpers.call_action("datastore_search", resource_id=live["id"], limit=0)
        assert [f["id"] for f in table["fields"] if f["id"] != "_id"] == [f["id"] for f in series.SERIES_FIELDS]
        assert json.loads(live[mapping.GAUGE_ZERO_FIELD])["value"] == 57.692

    def test_stations_are_assigned_to_the_municipality_whose_area_holds_them(self, feed, municipalities):
        source = create_source(feed.url, {"owner": "by_location"})

        job, results = run(source)

        assert not object_errors(results) and not gather_errors(job["id"])
        found = datasets()
        # 7 of the 25 stations lie inside a municipality's box; the others are not harvested
        assert set(found) == set(MAYEN_KOBLENZ) | {RUWER}
        mayen_koblenz, bitburg_pruem = municipalities["landkreis-mayen-koblenz"], municipalities["eifelkreis-bitburg-pruem"]
        assert {uuid for uuid, d in found.items() if d["owner_org"] == mayen_koblenz["id"]} == set(MAYEN_KOBLENZ)
        assert found[RUWER]["owner_org"] == bitburg_pruem["id"]
        assert found[RUWER]["political_geocoding_uri"] == [GEOCODING + "districtKey/07232"]

    def test_without_owner_the_sources_organisation_owns_the_datasets(self, feed):
        org = factories.Organization()
        source = create_source(feed.url, {"waters": "SAAR"}, owner_org=org["id"])

        run(source)

        found = datasets()
        assert len(found) == 2 and {d["owner_org"] for d in found.values()} == {org["id"]}
