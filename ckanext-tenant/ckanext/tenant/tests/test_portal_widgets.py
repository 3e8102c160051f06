"""Live widgets of other extensions on a municipality's page (ITenantWidgets), with a test-only plugin
(tests/widgets.py) loaded next to the configured ones."""
import re

import pytest

import ckan.plugins as plugins
from ckan.tests import factories

WIDGETS = "tenant_test_widgets"


@pytest.fixture
def widgets_configured(ckan_config, monkeypatch):
    """The configured plugins plus the test plugin, before clean_db's with_plugins loads them."""
    monkeypatch.setitem(ckan_config, "ckan.plugins", [*ckan_config["ckan.plugins"], WIDGETS])


@pytest.fixture
def app_with_widgets(widgets_configured, clean_db, make_app):
    assert plugins.plugin_loaded(WIDGETS)
    return make_app()


@pytest.mark.usefixtures("clean_index")
def test_widgets_appear_in_their_order_for_their_municipality_only(app_with_widgets):
    factories.Organization(name="landkreis-kusel", title="Landkreis Kusel", image_url="")
    factories.Organization(name="landkreis-sankt-wendel", title="Landkreis Sankt Wendel", image_url="")

    kusel = app_with_widgets.get("/kommune/landkreis-kusel").get_data(as_text=True)
    wendel = app_with_widgets.get("/kommune/landkreis-sankt-wendel").get_data(as_text=True)

    panels = re.findall(r'<section class="module tenant-widget">\s*<h2 class="module-heading">([^<]+)</h2>\s*'
                        r'<div class="module-content"><p class="test-widget">([^<]+)</p>', kusel)
    assert panels == [("Pegelstände", "142 cm in Landkreis Kusel"), ("Verkehrslage", "fließend in Landkreis Kusel")]
    assert "Ohne Vorlage" not in kusel  # a widget without a template is left out, not a broken page
    assert "tenant-widget" not in wendel


@pytest.mark.usefixtures("clean_db")
def test_no_widget_plugin_no_widgets(app):
    factories.Organization(name="landkreis-kusel", title="Landkreis Kusel", image_url="")

    page = app.get("/kommune/landkreis-kusel")

    assert page.status_code == 200 and "tenant-widget" not in page.get_data(as_text=True)
