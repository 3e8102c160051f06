"""Search through the real Solr core: German analysis and ckanext-spatial's bbox backend."""
import json

import pytest

from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde

# A rough outline of the Moselle valley and one of Hamburg, as GeoJSON polygons.
MOSEL = {"type": "Polygon", "coordinates": [[[6.5, 49.6], [7.6, 49.6], [7.6, 50.4], [6.5, 50.4], [6.5, 49.6]]]}
HAMBURG = {"type": "Polygon", "coordinates": [[[9.7, 53.4], [10.3, 53.4], [10.3, 53.7], [9.7, 53.7], [9.7, 53.4]]]}


def search(**params):
    return helpers.call_action("package_search", **params)


def names(result):
    return {dataset["name"] for dataset in result["results"]}


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestGermanSearch:
    def test_created_dataset_is_found_by_package_search(self):
        org = factories.Organization()
        dataset = dcatde.Dataset(owner_org=org["id"], title="Haushaltsplan 2026",
                                    notes="Ergebnishaushalt der Stadt Kaiserslautern")

        result = search(q="Haushaltsplan")

        assert result["count"] == 1
        assert result["results"][0]["id"] == dataset["id"]

    @pytest.mark.parametrize("query", ["Pegelstand", "pegelstände", "Pegelstaende", "Mosel"])
    def test_german_inflections_find_the_dataset(self, query):
        org = factories.Organization()
        dcatde.Dataset(name="pegel-mosel", owner_org=org["id"], title="Pegelstände der Mosel",
                          notes="Aktuelle Messwerte")
        dcatde.Dataset(name="haushalt", owner_org=org["id"], title="Haushaltsplan", notes="Finanzen")

        assert names(search(q=query)) == {"pegel-mosel"}

    def test_unrelated_word_finds_nothing(self):
        org = factories.Organization()
        dcatde.Dataset(owner_org=org["id"], title="Pegelstände der Mosel", notes="Aktuelle Messwerte")

        assert search(q="Parkhaus")["count"] == 0


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("bbox, found", [
    ("6.0,48.9,8.6,51.0", {"mosel"}),  # Rhineland-Palatinate
    ("9.0,53.0,11.0,54.0", {"hamburg"}),
])
def test_bbox_finds_what_lies_inside_and_not_what_lies_outside(bbox, found):
    org = factories.Organization()
    dcatde.Dataset(name="mosel", owner_org=org["id"], notes="Mosel", spatial_coverage=[{"bbox": json.dumps(MOSEL)}])
    dcatde.Dataset(name="hamburg", owner_org=org["id"], notes="Hamburg",
                   spatial_coverage=[{"bbox": json.dumps(HAMBURG)}])

    assert names(search(q="*:*", extras={"ext_bbox": bbox})) == found


GLAN_GAUGE = {"type": "Point", "coordinates": [7.46, 49.55]}
KUSEL = {"type": "Polygon", "coordinates": [[[7.19, 49.43], [7.62, 49.43], [7.62, 49.69], [7.19, 49.69], [7.19, 49.43]]]}


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("areas", [
    [{"bbox": json.dumps(KUSEL), "centroid": json.dumps({"type": "Point", "coordinates": [7.4, 49.56]})}],
    [{"centroid": json.dumps(GLAN_GAUGE)}],  # a gauging station: a point only
    [{"bbox": json.dumps(HAMBURG)}, {"text": "Pegel Glan", "centroid": json.dumps(GLAN_GAUGE)}],  # the second area
])
def test_every_area_of_a_dataset_is_on_the_map(areas):
    dcatde.Dataset(name="pegel", owner_org=factories.Organization()["id"], spatial_coverage=areas)

    assert names(search(q="*:*", extras={"ext_bbox": "7.4,49.5,7.5,49.6"})) == {"pegel"}
    assert names(search(q="*:*", extras={"ext_bbox": "12.0,47.5,13.0,48.0"})) == set()  # Bavaria
