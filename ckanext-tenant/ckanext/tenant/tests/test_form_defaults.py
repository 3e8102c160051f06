"""The dataset form shows the municipality's defaults pre-filled (tenant-form-defaults module)."""
import html
import json
import re

import pytest

from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde
from ckanext.tenant.tests.logic.test_defaults import KUSEL


def form_defaults(response):
    """The module's options as the browser reads them from the page."""
    match = re.search(r'data-module="tenant-form-defaults"\s+data-module-defaults="([^"]*)"\s+'
                      r'data-module-fill-on-load="(\w+)"', response.get_data(as_text=True))
    assert match, "the dataset form has no tenant-form-defaults module"
    return json.loads(html.unescape(match.group(1))), match.group(2)


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestFormDefaults:
    def test_new_form_offers_the_defaults_of_the_steward_s_municipalities_only(self, app):
        steward = factories.UserWithToken()
        kusel = factories.Organization(title="Landkreis Kusel", users=[{"name": steward["name"], "capacity": "editor"}],
                                       **KUSEL)
        factories.Organization(title="Landkreis Sankt Wendel", contributor_id=KUSEL["contributor_id"])

        defaults, fill_on_load = form_defaults(app.get("/dataset/new", headers={"Authorization": steward["token"]}))

        assert list(defaults) == [kusel["id"]]
        assert defaults[kusel["id"]]["publisher-0-name"] == "Landkreis Kusel"
        assert defaults[kusel["id"]]["contributor_id"] == KUSEL["contributor_id"]
        assert defaults[kusel["id"]]["political_geocoding_uri"] == KUSEL["political_geocoding_uri"]
        assert json.loads(defaults[kusel["id"]]["spatial_coverage-0-bbox"])["type"] == "Polygon"
        assert fill_on_load == "true"

    def test_edit_form_fills_only_when_the_municipality_changes(self, app):
        steward = factories.UserWithToken()
        kusel = factories.Organization(users=[{"name": steward["name"], "capacity": "editor"}], **KUSEL)
        dataset = dcatde.Dataset(owner_org=kusel["id"])

        _, fill_on_load = form_defaults(app.get(f"/dataset/edit/{dataset['name']}",
                                                headers={"Authorization": steward["token"]}))

        assert fill_on_load == "false"
