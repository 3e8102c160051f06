"""The schema's validators as plain functions (the form and API tests show them in context)."""
import json

import pytest

import ckan.plugins.toolkit as tk

from ckanext.suedwest.logic import validators as v
from ckanext.suedwest.tests.factories import DL_BY, DL_ZERO

POINT = json.dumps({"type": "Point", "coordinates": [7.77, 49.44]})


@pytest.mark.parametrize("value", [POINT, json.dumps({"type": "Polygon", "coordinates": [
    [[7.7, 49.4], [7.8, 49.4], [7.8, 49.5], [7.7, 49.4]]]})])
def test_geojson_accepts_wgs84_geometries(value):
    assert v.suedwest_geojson(value) == value


@pytest.mark.parametrize("value", [
    "POINT (7.77 49.44)",  # WKT, not GeoJSON
    json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.77, 49.44]}}),
    json.dumps({"type": "Point", "coordinates": [412000, 5478000]}),  # UTM metres, not degrees
    json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),  # bow tie
])
def test_geojson_rejects_what_spatial_search_cannot_use(value):
    with pytest.raises(tk.Invalid):
        v.suedwest_geojson(value)


def test_geocoding_uris_need_a_key_list_and_a_key():
    good = ["http://dcat-ap.de/def/politicalGeocoding/districtKey/07336"]
    assert v.suedwest_geocoding_uris(json.dumps(good)) == json.dumps(good)
    with pytest.raises(tk.Invalid):
        v.suedwest_geocoding_uris(json.dumps(["http://dcat-ap.de/def/politicalGeocoding/Kusel"]))


def test_contributor_id_is_a_dcat_ap_de_contributor_uri():
    assert v.suedwest_contributor_id("http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz")
    for bad in ("openGovernmentDataPortalRheinlandPfalz", "http://dcat-ap.de/def/contributors/"):
        with pytest.raises(tk.Invalid):
            v.suedwest_contributor_id(bad)


def run(validator, key, data):
    errors = {key: []}
    validator(key, data, errors, {})
    return errors[key]


def test_period_end_before_start_is_an_error():
    data = {("temporal_coverage", 0, "start"): "2026-06-30", ("temporal_coverage", 0, "end"): "2026-01-01"}

    assert run(v.suedwest_period_end, ("temporal_coverage", 0, "end"), data)
    data[("temporal_coverage", 0, "end")] = "2026-07-01"
    assert not run(v.suedwest_period_end, ("temporal_coverage", 0, "end"), data)


@pytest.mark.usefixtures("with_plugins")
class TestAttribution:
    def test_dataset_licence_requiring_attribution_needs_the_text(self):
        key = ("license_attribution_by_text",)

        assert run(v.suedwest_attribution_required, key, {("license_id",): DL_BY})
        assert not run(v.suedwest_attribution_required, key, {("license_id",): DL_BY, key: "Stadt Trier"})
        assert not run(v.suedwest_attribution_required, key, {("license_id",): DL_ZERO})

    def test_resource_with_its_own_licence_needs_its_own_text(self):
        key = ("resources", 0, "license_attribution_by_text")
        data = {("license_id",): DL_ZERO, ("resources", 0, "license"): DL_BY}

        assert run(v.suedwest_attribution_required, key, data)
        data[key] = "Umweltamt"
        assert not run(v.suedwest_attribution_required, key, data)

    def test_resource_inheriting_the_dataset_licence_is_checked_on_the_dataset(self):
        key = ("resources", 0, "license_attribution_by_text")

        assert not run(v.suedwest_attribution_required, key, {("license_id",): DL_BY})
