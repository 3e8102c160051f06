"""Areas reduced to what DCAT-AP.de 3.0 and GovData's conventions both accept: bounding box and centroid."""
import json

import pytest
from rdflib import Graph

from ckan.tests import factories

from ckanext.suedwest import geometry
from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.test_profiles import parse

KUSEL_BOX = {"type": "Polygon", "coordinates": [[[7.19, 49.43], [7.62, 49.43], [7.62, 49.69], [7.19, 49.69],
                                                 [7.19, 49.43]]]}
# a triangle: its bounding box is not the area itself
TRIANGLE = {"type": "Polygon", "coordinates": [[[6.0, 49.0], [7.0, 49.0], [6.0, 50.0], [6.0, 49.0]]]}


def test_a_point_is_its_own_centroid_and_has_no_box():
    assert geometry.bbox_and_centroid(json.dumps({"type": "Point", "coordinates": [7.4, 49.53]})) == {
        "centroid": json.dumps({"type": "Point", "coordinates": [7.4, 49.53]})}


def test_a_polygon_becomes_its_bounding_box_and_centroid():
    area = geometry.bbox_and_centroid(json.dumps(TRIANGLE))

    assert json.loads(area["bbox"])["coordinates"][0] == [[7.0, 49.0], [7.0, 50.0], [6.0, 50.0], [6.0, 49.0],
                                                          [7.0, 49.0]]
    assert json.loads(area["centroid"]) == {"type": "Point", "coordinates": [6.333333, 49.333333]}


def test_only_points_and_rectangles_are_kept_exactly():
    assert geometry.is_exact(json.dumps(KUSEL_BOX))
    assert geometry.is_exact(json.dumps({"type": "Point", "coordinates": [7.4, 49.53]}))
    assert not geometry.is_exact(json.dumps(TRIANGLE))


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestGeometryThroughTheApi:
    def test_geom_of_api_clients_is_stored_as_bbox_and_centroid(self):
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"],
                                 spatial_coverage=[{"text": "Dreieck", "geom": json.dumps(TRIANGLE)}])

        [area] = dataset["spatial_coverage"]
        assert set(area) == {"text", "bbox", "centroid"}
        assert json.loads(area["bbox"])["type"] == "Polygon"

    def test_a_given_centroid_wins_over_the_computed_one(self):
        mine = json.dumps({"type": "Point", "coordinates": [6.1, 49.1]})
        dataset = dcatde.Dataset(owner_org=factories.Organization()["id"],
                                 spatial_coverage=[{"geom": json.dumps(TRIANGLE), "centroid": mine}])

        assert dataset["spatial_coverage"][0]["centroid"] == mine

    @pytest.mark.parametrize("area, field, message", [
        ({"geom": "POINT (7 49)"}, "geom", "GeoJSON"),
        ({"bbox": json.dumps(TRIANGLE)}, "bbox", "Rechteck"),
        ({"centroid": json.dumps(KUSEL_BOX)}, "centroid", "Punkt"),
    ])
    def test_wrong_geometries_get_a_german_error(self, app, area, field, message):
        sysadmin = factories.SysadminWithToken()
        data = {"name": "gebiet", "title": "Gebiet", "notes": "Ein Gebiet", "theme": [dcatde.ENVI],
                "license_id": dcatde.DL_ZERO, "owner_org": factories.Organization()["id"], "spatial_coverage": [area]}

        response = app.post("/api/3/action/package_create", json=data,
                            headers={"Authorization": sysadmin["token"]}, status=409)

        [error] = response.json["error"]["spatial_coverage"][0][field]
        assert message in error


def test_a_harvested_outline_is_reduced_and_reported(with_plugins):
    graph = Graph().parse(format="turtle", data="""
        @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix locn: <http://www.w3.org/ns/locn#> . @prefix gsp: <http://www.opengis.net/ont/geosparql#> .
        <https://example.org/d> a dcat:Dataset ; dct:title "Dreieck" ;
            dct:spatial [ a dct:Location ; locn:geometry "POLYGON ((6 49, 7 49, 6 50, 6 49))"^^gsp:wktLiteral ] .
    """)

    dataset = parse(graph)

    [area] = dataset["spatial_coverage"]
    assert set(area) == {"bbox", "centroid"}
    [(prop, value)] = dataset["_suedwest_unmapped"]
    assert prop == "locn:geometry" and json.loads(value) == TRIANGLE
