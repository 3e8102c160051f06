"""pegel_status on real services: series tables in the DataStore written by the ingest store, datasets in
PostgreSQL and Solr; and the check of Meldestufen when a resource is saved."""
import datetime as dt
import json

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.pegel import series
from ckanext.pegel import warning_levels as wl
from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station, people_and_municipalities
from ckanext.suedwest.tests import factories

UTC = dt.timezone.utc
KOBLENZ_VALUES = json.dumps([{"shortname": "MNW", "unit": "cm", "value": 60.0},
                             {"shortname": "MW", "unit": "cm", "value": 214.0},
                             {"shortname": "MHW", "unit": "cm", "value": 588.0},
                             {"shortname": "HHW", "unit": "cm", "value": 949.0}])


@pytest.fixture
def world(clean_datastore, clean_index):  # noqa: F811
    return people_and_municipalities()


@pytest.fixture
def station(world):
    """Create a station dataset with a series resource and table; ``readings`` are (minutes ago, value)."""

    def make(title, org, readings=(), private=False, **fields):
        return create_station(world["sysadmin"], org, title, readings, private, **fields)[series.STATION_FIELD]

    return make


def status(user=None, **data):
    context = {"user": user["name"]} if user else {"user": ""}
    return {s["station"]: s for s in call_action("pegel_status", context, **data)["stations"]}


class TestPegelStatus:
    def test_station_above_meldestufe_2_rising(self, world, station):
        key = station("Pegel Kusel (Kuselbach)", world["kusel"], [(45, 300), (30, 310), (15, 318), (0, 335)],
                      pegel_warning_levels=MELDESTUFEN, pegel_characteristic_values=KOBLENZ_VALUES)

        result = status()[key]

        assert result["latest"]["value"] == 335.0 and result["latest"]["unit"] == "cm"
        assert result["latest"]["time"].endswith("Z")
        assert result["level"]["class"] == "meldestufe_2" and result["level"]["severity"] == 2
        assert result["thresholds"]["kind"] == "meldestufen"
        assert result["thresholds"]["levels"] == {"1": 250.0, "2": 320.0, "3": 400.0, "4": 480.0}
        assert result["thresholds"]["reference_lines"]["MHW"] == 588.0
        assert result["trend"] == "rising"
        assert result["stale"] is False and 0 <= result["age_minutes"] < 5
        assert result["organization"] == {"name": "landkreis-kusel", "title": "Landkreis Kusel"}
        assert result["dataset"]["title"] == "Pegel Kusel (Kuselbach)"
        assert result["coordinates"] == [7.3984, 49.5393]

    def test_characteristic_values_class(self, world, station):
        key = station("Pegel Trier (Mosel)", world["trier"], [(15, 600), (0, 615)],
                      pegel_characteristic_values=KOBLENZ_VALUES)

        result = status()[key]

        assert result["level"]["class"] == "high"
        assert result["thresholds"]["kind"] == "characteristic_values"
        assert result["trend"] == "rising"

    def test_stale_station(self, world, station):
        key = station("Pegel Altenglan", world["kusel"], [(200, 120.0), (185, 121.0)])

        result = status()[key]

        assert result["stale"] is True
        assert result["age_minutes"] >= 185
        assert result["latest"]["value"] == 121.0
        assert result["level"]["class"] == "unknown"

    @pytest.mark.ckan_config("ckanext.pegel.stale_after_minutes", 300)
    def test_stale_limit_is_configurable(self, world, station):
        key = station("Pegel Altenglan", world["kusel"], [(200, 120.0)])

        response = call_action("pegel_status", {"user": ""})

        assert response["stale_after_minutes"] == 300
        assert {s["station"]: s for s in response["stations"]}[key]["stale"] is False

    def test_station_without_readings(self, world, station):
        key = station("Pegel Lauterecken", world["kusel"], [], pegel_warning_levels=MELDESTUFEN)

        result = status()[key]

        assert result["latest"] is None and result["age_minutes"] is None and result["trend"] is None
        assert result["stale"] is True
        assert result["level"]["class"] == "unknown"
        assert result["thresholds"]["levels"]["4"] == 480.0

    def test_private_station_only_for_members(self, world, station):
        public = station("Pegel Kusel", world["kusel"], [(0, 100)])
        private = station("Pegel Glan intern", world["kusel"], [(0, 100)], private=True)

        assert set(status()) == {public}
        assert set(status(world["outsider"])) == {public}
        assert set(status(world["member"])) == {public, private}
        assert status(world["member"])[private]["private"] is True

    def test_filter_by_organisation(self, world, station):
        kusel = station("Pegel Kusel", world["kusel"], [(0, 100)])
        trier = station("Pegel Trier", world["trier"], [(0, 300)])

        assert set(status(organization="stadt-trier")) == {trier}
        assert set(status(organization=world["kusel"]["id"])) == {kusel}
        with pytest.raises(tk.ObjectNotFound):
            status(organization="gibt-es-nicht")

    def test_highest_warning_first(self, world, station):
        calm = station("A calm", world["kusel"], [(0, 100)], pegel_warning_levels=MELDESTUFEN)
        flood = station("B flood", world["kusel"], [(0, 490)], pegel_warning_levels=MELDESTUFEN)

        stations = call_action("pegel_status", {"user": ""})["stations"]

        assert [s["station"] for s in stations] == [flood, calm]

    def test_datasets_without_series_are_not_stations(self, world, station):
        factories.Dataset(owner_org=world["kusel"]["id"], user=world["sysadmin"])
        key = station("Pegel Kusel", world["kusel"], [(0, 100)])

        assert set(status()) == {key}

    def test_over_http_in_german(self, app, world, station):
        public = station("Pegel Kusel", world["kusel"], [(15, 320), (0, 330)], pegel_warning_levels=MELDESTUFEN)
        trier = station("Pegel Trier", world["trier"], [(0, 615)], pegel_characteristic_values=KOBLENZ_VALUES)
        private = station("Pegel intern", world["kusel"], [(0, 100)], private=True)
        token = ckan_factories.APIToken(user=world["member"]["name"])["token"]

        anonymous = app.get("/api/3/action/pegel_status", status=200).json["result"]["stations"]
        member = app.get("/api/3/action/pegel_status", headers={"Authorization": token},
                         query_string={"organization": "landkreis-kusel"}, status=200).json["result"]["stations"]
        missing = app.get("/api/3/action/pegel_status", query_string={"organization": "nirgendwo"}, status=404)

        by_key = {s["station"]: s for s in anonymous}
        assert set(by_key) == {public, trier}
        assert by_key[public]["level"]["label"] == "Meldestufe 2"
        assert by_key[public]["trend_label"] == "steigend"
        assert by_key[trier]["level"]["label"] == "Hochwasser (ab MHW)"
        assert {s["station"] for s in member} == {public, private}
        assert "Kommune nicht gefunden" in missing.json["error"]["message"]


class TestMeldestufenOnSave:
    @pytest.mark.parametrize("levels, german", [
        ('{"1": 400, "2": 320}', "Die Meldestufen müssen von 1 bis 4 ansteigen"),
        ('{"5": 600}', "Unbekannte Meldestufe „5“"),
        ('{"1": "hoch"}', "Meldestufe 1 muss eine Zahl sein"),
        ("250", "Die Meldestufen müssen ein JSON-Objekt sein"),
    ])
    def test_invalid_levels_refused_in_german(self, app, world, levels, german):
        dataset = factories.Dataset(owner_org=world["kusel"]["id"], user=world["sysadmin"])
        token = ckan_factories.APIToken(user=world["sysadmin"]["name"])["token"]

        response = app.post("/api/3/action/resource_create", headers={"Authorization": token}, json={
            "package_id": dataset["id"], "url": "http://example.org/s", "pegel_warning_levels": levels},
            status=409)

        assert german in response.json["error"]["pegel_warning_levels"][0]
        assert len(call_action("package_show", id=dataset["id"])["resources"]) == len(dataset["resources"])

    def test_patch_sets_canonical_levels_and_status_follows(self, world, station):
        key = station("Pegel Kusel", world["kusel"], [(0, 330)])
        resource_id = series.series_resource_id(key)
        assert status()[key]["level"]["class"] == "unknown"

        call_action("resource_patch", {"user": world["sysadmin"]["name"]}, id=resource_id,
                    pegel_warning_levels='{"1": 250, "2": "320", "3": 400.0}')

        assert call_action("resource_show", id=resource_id)["pegel_warning_levels"] == \
            '{"1": 250, "2": 320, "3": 400}'
        assert status()[key]["level"]["class"] == "meldestufe_2"

    def test_invalid_patch_keeps_the_old_levels(self, world, station):
        key = station("Pegel Kusel", world["kusel"], [(0, 330)], pegel_warning_levels=MELDESTUFEN)
        resource_id = series.series_resource_id(key)

        with pytest.raises(tk.ValidationError):
            call_action("resource_patch", {"user": world["sysadmin"]["name"]}, id=resource_id,
                        pegel_warning_levels='{"1": 300, "2": 200}')

        assert wl.parse_warning_levels(call_action("resource_show", id=resource_id)["pegel_warning_levels"]) \
            == wl.parse_warning_levels(MELDESTUFEN)
        assert status()[key]["level"]["class"] == "meldestufe_2"


class TestMeldestufenForm:
    """The steward sets Meldestufen in the resource form of a series: four number inputs."""

    @pytest.fixture
    def steward(self, world):
        editor = ckan_factories.User()
        call_action("organization_member_create", {"user": world["sysadmin"]["name"]}, id=world["kusel"]["id"],
                    username=editor["name"], role="editor")
        return {**editor, "token": ckan_factories.APIToken(user=editor["name"])["token"]}

    def edit(self, app, steward, resource, status=200, **levels):
        form = {"url": resource["url"], "name": resource["name"], "save": "",
                **{f"pegel_warning_levels__0__{level}": value for level, value in levels.items()}}
        return app.post(f"/dataset/{resource['package_id']}/resource/{resource['id']}/edit", data=form,
                        headers={"Authorization": steward["token"]}, status=status)

    def test_form_shows_the_stored_levels(self, app, world, station, steward):
        resource = call_action("resource_show", id=series.series_resource_id(
            station("Pegel Kusel", world["kusel"], [(0, 330)], pegel_warning_levels=MELDESTUFEN)))

        page = app.get(f"/dataset/{resource['package_id']}/resource/{resource['id']}/edit",
                       headers={"Authorization": steward["token"]}).body

        assert 'name="pegel_warning_levels__0__3" value="400"' in page
        assert ">Meldestufe 3</label>" in page

    def test_saved_levels_set_the_class_and_keep_the_series(self, app, world, station, steward):
        key = station("Pegel Kusel", world["kusel"], [(0, 330)], pegel_characteristic_values=KOBLENZ_VALUES)
        resource = call_action("resource_show", id=series.series_resource_id(key))

        self.edit(app, steward, resource, **{"1": "250", "2": "320,5", "3": "", "4": ""})

        saved = call_action("resource_show", id=resource["id"])
        assert saved["pegel_warning_levels"] == '{"1": 250, "2": 320.5}'
        assert (saved[series.STATION_FIELD], saved[series.SERIES_FIELD]) == (key, series.WATER_LEVEL)
        assert saved[wl.CHARACTERISTIC_VALUES_FIELD] == KOBLENZ_VALUES
        assert status()[key]["level"]["class"] == "meldestufe_2"

    def test_blank_inputs_remove_the_levels(self, app, world, station, steward):
        key = station("Pegel Kusel", world["kusel"], [(0, 330)], pegel_warning_levels=MELDESTUFEN,
                      pegel_characteristic_values=KOBLENZ_VALUES)
        resource = call_action("resource_show", id=series.series_resource_id(key))

        self.edit(app, steward, resource, **{"1": "", "2": " ", "3": "", "4": ""})

        assert not call_action("resource_show", id=resource["id"])["pegel_warning_levels"]
        assert status()[key]["thresholds"]["kind"] == wl.CHARACTERISTIC_VALUES

    def test_wrong_order_shows_a_german_error_and_keeps_the_input(self, app, world, station, steward):
        key = station("Pegel Kusel", world["kusel"], [(0, 330)], pegel_warning_levels=MELDESTUFEN)
        resource = call_action("resource_show", id=series.series_resource_id(key))

        page = self.edit(app, steward, resource, **{"1": "400", "2": "300"}).body

        assert "Die Meldestufen müssen von 1 bis 4 ansteigen" in page
        assert 'name="pegel_warning_levels__0__1" value="400"' in page
        assert call_action("resource_show", id=resource["id"])["pegel_warning_levels"] == MELDESTUFEN

    def test_no_inputs_for_other_resources(self, app, world, steward):
        dataset = factories.Dataset(owner_org=world["kusel"]["id"], user=world["sysadmin"])
        resource = call_action("resource_create", {"user": world["sysadmin"]["name"]}, package_id=dataset["id"],
                               url="http://example.org/messwerte.csv", name="Messwerte")

        page = app.get(f"/dataset/{dataset['id']}/resource/{resource['id']}/edit",
                       headers={"Authorization": steward["token"]}).body

        assert "pegel_warning_levels" not in page
