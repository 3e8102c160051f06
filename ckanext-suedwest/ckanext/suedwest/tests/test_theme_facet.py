"""The EU data theme as a search facet: one value per theme, German labels, a filter that finds them."""
import pytest

from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestThemeFacet:
    def test_each_theme_is_counted_on_its_own_with_its_german_label(self):
        org = factories.Organization()
        dcatde.Dataset(owner_org=org["id"], theme=[EU_THEME + "ENVI", EU_THEME + "TRAN"])
        dcatde.Dataset(owner_org=org["id"], theme=[EU_THEME + "ENVI"])

        facet = helpers.call_action("package_search", **{"facet.field": '["vocab_theme"]'})["search_facets"][
            "vocab_theme"]

        assert {(item["name"], item["display_name"], item["count"]) for item in facet["items"]} == {
            (EU_THEME + "ENVI", "Umwelt", 2), (EU_THEME + "TRAN", "Verkehr", 1)}

    def test_the_search_page_filters_by_theme(self, app):
        org = factories.Organization()
        traffic = dcatde.Dataset(owner_org=org["id"], title="Radwege", theme=[EU_THEME + "ENVI", EU_THEME + "TRAN"])
        dcatde.Dataset(owner_org=org["id"], title="Luftmessstellen", theme=[EU_THEME + "ENVI"])

        page = app.get("/dataset/", query_string={"vocab_theme": EU_THEME + "TRAN"}).get_data(as_text=True)

        assert traffic["title"] in page and "Luftmessstellen" not in page
        assert "Kategorie" in page and "Verkehr" in page
