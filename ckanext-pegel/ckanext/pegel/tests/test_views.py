"""The Pegel dashboard /pegel and the widget on a municipality's page, rendered by the server on real services
(station datasets in PostgreSQL and Solr, readings in the DataStore written by the ingest store)."""
import json
import re

import pytest

from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station, people_and_municipalities

KOBLENZ_VALUES = json.dumps([{"shortname": "MNW", "unit": "cm", "value": 60.0},
                             {"shortname": "MW", "unit": "cm", "value": 214.0},
                             {"shortname": "MHW", "unit": "cm", "value": 588.0}])


@pytest.fixture
def world(clean_datastore, clean_index):  # noqa: F811
    """Two municipalities with stations (one private, one without coordinates, one stale) and one without."""
    world = people_and_municipalities()
    sysadmin, kusel, trier = world["sysadmin"], world["kusel"], world["trier"]
    wendel = ckan_factories.Organization(name="landkreis-sankt-wendel", title="Landkreis Sankt Wendel")
    stations = {
        "kuselbach": create_station(sysadmin, kusel, "Pegel Kusel (Kuselbach)",
                                    [(45, 300), (30, 310), (15, 318), (0, 335.5)], pegel_warning_levels=MELDESTUFEN),
        "glan": create_station(sysadmin, kusel, "Pegel Altenglan (Glan)", [(20, 120), (5, 121)],
                               pegel_warning_levels=MELDESTUFEN),
        "intern": create_station(sysadmin, kusel, "Pegel Betriebshof (intern)", [(0, 99)], private=True,
                                 pegel_warning_levels=MELDESTUFEN),
        "mosel": create_station(sysadmin, trier, "Pegel Trier (Mosel)", [(300, 250)],
                                pegel_characteristic_values=KOBLENZ_VALUES),
    }
    # A sensor station whose dataset has no point: in the list, not on the map.
    package_id = stations["glan"]["package_id"]
    call_action("package_patch", {"user": sysadmin["name"]}, id=package_id,
                spatial_coverage=[{"text": "Glan bei Altenglan"}])
    return dict(world, wendel=wendel, stations={name: res["pegel_station"] for name, res in stations.items()})


def rows(body):
    """The station keys of the list's rows, in their order, with each row's HTML."""
    return re.findall(r'<tr class="pegel-station[^"]*"\s+data-station="([^"]+)">(.*?)</tr>', body, re.S)


def map_stations(body):
    """The stations the map script starts with (JSON in a script element)."""
    match = re.search(r'<script type="application/json" class="pegel-stations-data">(.*?)</script>', body, re.S)
    return json.loads(match.group(1))


def get(app, url, user=None, **kwargs):
    headers = {"Authorization": ckan_factories.APIToken(user=user["name"])["token"]} if user else {}
    return app.get(url, headers=headers, **kwargs)


class TestDashboard:
    def test_anonymous_sees_the_public_stations_by_severity(self, app, world):
        body = get(app, "/pegel", status=200).body
        keys = world["stations"]

        listed = rows(body)
        assert [key for key, _ in listed] == [keys["kuselbach"], keys["glan"], keys["mosel"]]
        kuselbach, glan, mosel = (html for _, html in listed)
        assert "<h1 class=\"heading\">Pegelstände</h1>" in body
        assert "335,5 cm" in kuselbach and "Meldestufe 2" in kuselbach and "steigend" in kuselbach
        assert "pegel-level-meldestufe_2" in kuselbach
        assert "Landkreis Kusel" in kuselbach
        assert "121 cm" in glan and "Unter Meldestufe 1" in glan
        assert "Normal (zwischen MNW und MHW)" in mosel and "vor 5 Std." in mosel and "veraltet" in mosel
        assert "veraltet" not in kuselbach
        assert 'href="/dataset/' in kuselbach
        assert "Pegel Betriebshof" not in body

    def test_map_gets_the_stations_with_their_level(self, app, world):
        tricky = create_station(world["sysadmin"], world["trier"], "Pegel </script><b>Saar</b>", [(0, 100)])
        body = get(app, "/pegel", status=200).body
        stations = {s["station"]: s for s in map_stations(body)}

        kuselbach = stations[world["stations"]["kuselbach"]]
        assert kuselbach["coordinates"] == [7.3984, 49.5393]
        assert kuselbach["level"]["class"] == "meldestufe_2"
        assert stations[world["stations"]["glan"]]["coordinates"] is None
        assert stations[tricky["pegel_station"]]["dataset"]["title"] == "Pegel </script><b>Saar</b>"
        assert "<b>Saar</b>" not in body
        assert 'data-module="pegel-dashboard"' in body
        assert 'data-module-api-url="/api/3/action/pegel_status"' in body
        assert 'data-module-tile-url=""' in body

    def test_private_station_for_members_only(self, app, world):
        private = world["stations"]["intern"]

        assert private not in dict(rows(get(app, "/pegel", world["outsider"]).body))
        member_rows = dict(rows(get(app, "/pegel", world["member"]).body))
        assert private in member_rows
        assert "Privat" in member_rows[private]

    def test_filter_by_municipality(self, app, world):
        body = get(app, "/pegel", query_string={"kommune": "stadt-trier"}, status=200).body

        assert [key for key, _ in rows(body)] == [world["stations"]["mosel"]]
        assert '<option value="stadt-trier" selected>Stadt Trier</option>' in body
        assert '<option value="landkreis-kusel">Landkreis Kusel</option>' in body
        assert 'data-module-organization="stadt-trier"' in body

    def test_municipality_without_stations(self, app, world):
        body = get(app, "/pegel", query_string={"kommune": "landkreis-sankt-wendel"}, status=200).body

        assert rows(body) == []
        assert "Keine Pegel zum Anzeigen." in body

    def test_unknown_municipality_gives_a_german_notice(self, app, world):
        body = get(app, "/pegel", query_string={"kommune": "nirgendwo"}, status=200).body

        assert "Eine Kommune „nirgendwo“ gibt es nicht; alle Pegel werden angezeigt." in body
        assert len(rows(body)) == 3

    @pytest.mark.ckan_config("ckanext.tenant.hosts", "pegel.kreis-kusel.example=landkreis-kusel")
    def test_a_municipality_host_starts_with_its_stations(self, app, world):
        on_host = app.get("/pegel", headers={"Host": "pegel.kreis-kusel.example"}).body
        everything = app.get("/pegel", headers={"Host": "pegel.kreis-kusel.example"},
                             query_string={"kommune": ""}).body

        assert [key for key, _ in rows(on_host)] == [world["stations"]["kuselbach"], world["stations"]["glan"]]
        assert '<option value="landkreis-kusel" selected>Landkreis Kusel</option>' in on_host
        assert len(rows(everything)) == 3
        assert len(rows(get(app, "/pegel").body)) == 3  # the main host is not scoped

    def test_main_navigation_links_the_dashboard_after_the_municipalities(self, app, world):
        body = get(app, "/dataset", status=200).body

        assert re.search(r'<a href="/kommune"[^>]*>Kommunen</a></li>\s*<li><a href="/pegel"[^>]*>Pegel</a></li>',
                         body)
        assert re.search(r'<li class="active"><a href="/pegel"[^>]*>Pegel</a>', get(app, "/pegel").body)


class TestTenantWidget:
    def test_municipality_page_shows_its_stations(self, app, world):
        body = get(app, "/kommune/landkreis-kusel", status=200).body

        assert '<h2 class="module-heading">Pegelstände</h2>' in body
        assert [key for key, _ in rows(body)] == [world["stations"]["kuselbach"], world["stations"]["glan"]]
        assert 'data-module-organization="landkreis-kusel"' in body
        assert 'href="/pegel?kommune=landkreis-kusel"' in body

    def test_no_widget_without_stations(self, app, world):
        body = get(app, "/kommune/landkreis-sankt-wendel", status=200).body

        assert "pegel-widget" not in body and "Pegelstände" not in body

    def test_private_stations_only_make_a_widget_for_members(self, app, world):
        lonely = ckan_factories.Organization(name="verbandsgemeinde-lauterecken", title="VG Lauterecken",
                                             users=[{"name": world["member"]["name"], "capacity": "member"}])
        create_station(world["sysadmin"], lonely, "Pegel Lauterecken (intern)", [(0, 80)], private=True)

        assert "pegel-widget" not in get(app, "/kommune/verbandsgemeinde-lauterecken", world["outsider"]).body
        assert "pegel-widget" in get(app, "/kommune/verbandsgemeinde-lauterecken", world["member"]).body
