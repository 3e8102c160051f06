import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde


@pytest.mark.usefixtures("with_plugins")
def test_plugin_loads_and_declares_the_tenants_file():
    assert plugins.plugin_loaded("tenant")
    assert tk.config.get("ckanext.tenant.tenants_file") == "config/tenants.yaml"


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_search_page_offers_the_kommune_facet_first(app):
    org = factories.Organization(title="Landkreis Kusel")
    dcatde.Dataset(owner_org=org["id"])

    page = app.get("/dataset/").get_data(as_text=True)

    facets = [page.index(label) for label in ("Kommune", "Schlagwörter", "Formate") if label in page]
    assert facets and facets == sorted(facets) and "Kommune" in page
    assert "Landkreis Kusel" in page[page.index("Kommune"):]
