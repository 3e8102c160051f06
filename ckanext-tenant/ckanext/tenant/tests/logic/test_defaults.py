"""A dataset created in a municipality takes its defaults from it; what the steward gives wins."""
import json

import pytest

from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde

KUSEL = {"official_key": "07336", "contributor_id": "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz",
         "political_geocoding_level_uri": "http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict",
         "political_geocoding_uri": "http://dcat-ap.de/def/politicalGeocoding/districtKey/07336",
         "bbox": "7.19,49.43,7.63,49.7", "contact_email": "open-data@kv-kus.de", "website": "https://www.landkreis-kusel.de"}


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestTenantDefaults:
    def test_empty_fields_come_from_the_municipality(self):
        org = factories.Organization(title="Landkreis Kusel", **KUSEL)

        dataset = dcatde.Dataset(owner_org=org["id"])

        assert dataset["contributor_id"] == KUSEL["contributor_id"]
        assert dataset["political_geocoding_level_uri"] == KUSEL["political_geocoding_level_uri"]
        assert dataset["political_geocoding_uri"] == [KUSEL["political_geocoding_uri"]]
        [area] = dataset["spatial_coverage"]
        assert area["text"] == "Landkreis Kusel"
        assert json.loads(area["bbox"])["coordinates"][0][0] == [7.19, 49.43]
        assert dataset["publisher"] == [{"name": "Landkreis Kusel", "type": "http://purl.org/adms/publishertype/LocalAuthority",
                                         "email": KUSEL["contact_email"], "url": KUSEL["website"]}]

    def test_the_default_extent_makes_the_dataset_findable_on_the_map(self):
        org = factories.Organization(title="Landkreis Kusel", **KUSEL)
        dataset = dcatde.Dataset(owner_org=org["id"])

        found = helpers.call_action("package_search", q="*:*", extras={"ext_bbox": "7.3,49.5,7.4,49.6"})

        assert [d["id"] for d in found["results"]] == [dataset["id"]]

    def test_values_given_by_the_steward_win(self):
        org = factories.Organization(title="Landkreis Kusel", **KUSEL)
        glan = {"text": "Glan", "centroid": json.dumps({"type": "Point", "coordinates": [7.4, 49.53]})}

        umweltamt = {"name": "Umweltamt Kusel", "email": "umwelt@kv-kus.de"}

        dataset = dcatde.Dataset(owner_org=org["id"], spatial_coverage=[glan], publisher=[umweltamt],
                                 political_geocoding_uri=["http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07336050"])

        assert dataset["spatial_coverage"] == [glan]
        assert [{k: v for k, v in p.items() if v} for p in dataset["publisher"]] == [umweltamt]
        assert dataset["political_geocoding_uri"] == ["http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07336050"]
        assert dataset["contributor_id"] == KUSEL["contributor_id"]

    def test_organisation_without_tenant_data_is_only_the_publisher(self):
        dataset = dcatde.Dataset(owner_org=factories.Organization(title="Zweckverband")["id"])

        assert not dataset.get("contributor_id") and not dataset.get("spatial_coverage")
        assert [p["name"] for p in dataset["publisher"]] == ["Zweckverband"]
