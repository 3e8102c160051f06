"""dashboard.py: the widget for a municipality's page (real services), the German formatting of the list and the
"Pegel" item of the main navigation."""
import pytest

from ckan.tests import factories as ckan_factories

from ckanext.pegel import dashboard
from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station



@pytest.mark.usefixtures("with_request_context")
class TestTenantWidgets:
    def test_widget_with_the_municipalitys_stations(self, clean_datastore, clean_index):  # noqa: F811
        sysadmin = ckan_factories.Sysadmin()
        kusel = ckan_factories.Organization(name="landkreis-kusel", title="Landkreis Kusel")
        trier = ckan_factories.Organization(name="stadt-trier", title="Stadt Trier")
        ours = create_station(sysadmin, kusel, "Pegel Kusel (Kuselbach)", [(0, 330)], pegel_warning_levels=MELDESTUFEN)
        create_station(sysadmin, trier, "Pegel Trier (Mosel)", [(0, 250)])

        widgets = dashboard.tenant_widgets(kusel)

        assert len(widgets) == 1
        widget = widgets[0]
        assert widget["title"] == "Pegelstände"
        assert widget["template"] == "pegel/snippets/tenant_widget.html"
        assert [s["station"] for s in widget["data"]["stations"]] == [ours["pegel_station"]]
        assert widget["data"]["map_stations"][0]["level"]["class"] == "meldestufe_2"
        assert "thresholds" not in widget["data"]["map_stations"][0]

    def test_no_widget_without_visible_stations(self, clean_datastore, clean_index):  # noqa: F811
        sysadmin = ckan_factories.Sysadmin()
        kusel = ckan_factories.Organization(name="landkreis-kusel")
        wendel = ckan_factories.Organization(name="landkreis-sankt-wendel")
        create_station(sysadmin, kusel, "Pegel intern", [(0, 100)], private=True)

        assert dashboard.tenant_widgets(wendel) == []
        assert dashboard.tenant_widgets(kusel) == []  # anonymous: the private station is not there
        assert dashboard.tenant_widgets({"id": "gone", "name": "gone"}) == []


@pytest.mark.usefixtures("with_request_context")
class TestFormatting:
    @pytest.mark.parametrize("iso, local", [
        ("2026-07-01T12:00:00Z", "01.07.2026, 14:00"),        # summer time, UTC+2
        ("2026-01-15T23:30:00+00:00", "16.01.2026, 00:30"),   # winter time, UTC+1, next day
        ("2026-03-29T01:00:00Z", "29.03.2026, 03:00"),        # the hour the clocks go forward
        ("", ""), (None, ""), ("gestern", ""),
    ])
    def test_local_time(self, iso, local):
        assert dashboard.local_time(iso) == local

    @pytest.mark.parametrize("minutes, words", [
        (None, ""), (-2.0, "gerade eben"), (0.4, "gerade eben"), (5.9, "vor 5 Min."), (59.9, "vor 59 Min."),
        (60, "vor 1 Std."), (47 * 60 + 59, "vor 47 Std."), (48 * 60, "vor 2 Tagen"), (24 * 60 * 30, "vor 30 Tagen"),
    ])
    def test_age_in_german(self, minutes, words):
        assert dashboard.age(minutes) == words

    @pytest.mark.parametrize("latest, text", [
        ({"value": 335.46, "unit": "cm"}, "335,5 cm"),
        ({"value": 335.25, "unit": "cm"}, "335,3 cm"),  # halves up, like Math.round in the script
        ({"value": -0.25, "unit": "cm"}, "-0,2 cm"),
        ({"value": 1234.0, "unit": "cm"}, "1.234 cm"),
        ({"value": 12.0, "unit": None}, "12"),
        ({"value": None, "unit": "cm"}, ""), (None, ""),
    ])
    def test_value_with_german_decimals(self, latest, text):
        assert dashboard.value(latest) == text

    def test_legend_has_every_class_with_its_label(self):
        legend = {entry["class"]: entry["label"] for entry in dashboard.legend()}

        assert list(legend)[:2] == ["meldestufe_4", "meldestufe_3"]
        assert legend["high"] == "Hochwasser (ab MHW)"
        assert set(legend) == {"meldestufe_1", "meldestufe_2", "meldestufe_3", "meldestufe_4", "below_1",
                               "low", "normal", "high", "unknown"}


@pytest.mark.usefixtures("with_request_context")
class TestMainNav:
    def test_after_the_municipalities(self):
        nav = '<li><a href="/dataset/">Datensätze</a></li><li><a href="/kommune">Kommunen</a></li>' \
              '<li><a href="/about">Über uns</a></li>'

        assert str(dashboard.main_nav(nav)) == (
            '<li><a href="/dataset/">Datensätze</a></li><li><a href="/kommune">Kommunen</a></li>'
            '<li><a href="/pegel">Pegel</a></li><li><a href="/about">Über uns</a></li>')

    def test_at_the_end_without_municipalities(self):
        nav = '<li><a href="/dataset/">Datensätze</a></li>'

        assert str(dashboard.main_nav(nav)) == nav + '<li><a href="/pegel">Pegel</a></li>'


@pytest.mark.usefixtures("clean_db", "with_request_context")
def test_filter_offers_every_municipality_by_title():
    # More than CKAN returns in one organization_list call with all_fields (25).
    for number in range(30):
        ckan_factories.Organization(name=f"kommune-{number:02d}", title=f"Kommune {29 - number:02d}")

    choices = dashboard.municipalities()

    assert len(choices) == 30
    assert choices[0] == {"name": "kommune-29", "title": "Kommune 00"}
    assert choices[-1] == {"name": "kommune-00", "title": "Kommune 29"}
