"""A PEGELONLINE harvest source may only name municipalities its author may publish in."""
import json

import pytest

from ckan.tests import factories

URL = "https://www.pegelonline.wsv.de/webservices/rest-api/v2"


@pytest.fixture
def kusel_editor():
    editor = factories.UserWithToken()
    kusel = factories.Organization(name="landkreis-kusel", users=[{"name": editor["name"], "capacity": "admin"}])
    factories.Organization(name="landkreis-sankt-wendel")
    return {"user": editor, "org": kusel, "headers": {"Authorization": editor["token"]}}


def create_source(app, headers, org, owner, status):
    config = json.dumps({"owner": owner}) if owner else ""
    return app.post("/api/3/action/harvest_source_create", headers=headers, status=status, json={
        "name": "pegel-quelle", "title": "Pegel", "url": URL, "source_type": "pegelonline",
        "owner_org": org["id"], "config": config})


@pytest.mark.usefixtures("clean_db")
class TestSourceOwner:
    @pytest.mark.parametrize("owner, german", [
        ("landkreis-sankt-wendel", "Sie dürfen keine Datensätze in „landkreis-sankt-wendel“ veröffentlichen"),
        ("by_location", "Nur Systemadministratoren dürfen Pegel nach Lage auf die Kommunen verteilen"),
    ])
    def test_an_admin_of_one_municipality_cannot_fill_another(self, app, kusel_editor, owner, german):
        response = create_source(app, kusel_editor["headers"], kusel_editor["org"], owner, status=403)

        assert german in response.json["error"]["message"]
        assert app.get("/api/3/action/package_show", query_string={"id": "pegel-quelle"}, status=404)

    def test_nor_by_changing_an_existing_source(self, app, kusel_editor):
        source = create_source(app, kusel_editor["headers"], kusel_editor["org"], None, status=200).json["result"]

        app.post("/api/3/action/harvest_source_patch", headers=kusel_editor["headers"], status=403,
                 json={"id": source["id"], "config": json.dumps({"owner": "landkreis-sankt-wendel"})})

    @pytest.mark.parametrize("owner", [None, "landkreis-kusel"])
    def test_their_own_municipality_is_fine(self, app, kusel_editor, owner):
        create_source(app, kusel_editor["headers"], kusel_editor["org"], owner, status=200)

    def test_a_sysadmin_may_distribute_by_location(self, app, kusel_editor):
        sysadmin = factories.SysadminWithToken()

        create_source(app, {"Authorization": sysadmin["token"]}, kusel_editor["org"], "by_location", status=200)
