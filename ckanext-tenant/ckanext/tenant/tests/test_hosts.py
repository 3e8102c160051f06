"""Host mapping (ckanext.tenant.hosts): a municipality's own host shows its page and limits the dataset search;
the API, the DCAT endpoints and other hosts stay unscoped. Requests carry a Host header, as behind a reverse proxy."""
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ckan.exceptions import CkanConfigurationException
from ckan.tests import factories

from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.rdf import graph_of, identifiers
from ckanext.tenant import hosts

KUSEL_HOST = "daten.kusel.example"
HOSTS = f"{KUSEL_HOST}=landkreis-kusel opendata.wendel.example:8443=landkreis-sankt-wendel"


def on(host):
    return {"headers": {"Host": host}}


def dataset_titles(response):
    return set(re.findall(r'<h2 class="dataset-heading">.*?title="([^"]+)"', response.get_data(as_text=True), re.S))


@pytest.fixture
def world(clean_db, clean_index):
    kusel = factories.Organization(name="landkreis-kusel", title="Landkreis Kusel", image_url="")
    wendel = factories.Organization(name="landkreis-sankt-wendel", title="Landkreis Sankt Wendel", image_url="")
    return {
        "kusel": dcatde.Dataset(owner_org=kusel["id"], title="Pegel Glan"),
        "wendel": dcatde.Dataset(owner_org=wendel["id"], title="Pegel Blies"),
    }


@pytest.mark.ckan_config("ckanext.tenant.hosts", HOSTS)
@pytest.mark.usefixtures("world")
class TestMappedHost:
    def test_home_page_is_the_municipalitys_page(self, app):
        response = app.get("/", **on(KUSEL_HOST))

        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert re.search(r'<h1 class="heading">\s*Landkreis Kusel\s*</h1>', body)
        assert "Pegel Glan" in body and "Pegel Blies" not in body

    def test_dataset_search_is_limited_and_says_so(self, app):
        response = app.get("/dataset/", **on(KUSEL_HOST))

        assert dataset_titles(response) == {"Pegel Glan"}
        body = response.get_data(as_text=True)
        assert "Sie sehen nur Datensätze von Landkreis Kusel." in body
        assert 'href="http://test.ckan.net/dataset/?' in body  # the same search on the main host

    def test_a_filter_for_another_municipality_finds_nothing_there(self, app):
        response = app.get("/dataset/?organization=landkreis-sankt-wendel", **on(KUSEL_HOST))

        assert dataset_titles(response) == set()

    def test_host_with_port_and_in_other_case(self, app):
        assert dataset_titles(app.get("/dataset/", **on("opendata.wendel.example:8443"))) == {"Pegel Blies"}
        assert dataset_titles(app.get("/dataset/", **on("DATEN.Kusel.example:443"))) == {"Pegel Glan"}

    @pytest.mark.parametrize("host", ["test.ckan.net", "opendata.wendel.example", "anderer.example"])
    def test_other_hosts_are_unscoped(self, app, host):
        search = app.get("/dataset/", **on(host))
        home = app.get("/", **on(host))

        assert dataset_titles(search) == {"Pegel Glan", "Pegel Blies"}
        assert "Sie sehen nur" not in search.get_data(as_text=True)
        assert "tenant-intro" not in home.get_data(as_text=True)

    def test_x_forwarded_host_is_not_trusted(self, app):
        response = app.get("/dataset/", headers={"Host": "test.ckan.net", "X-Forwarded-Host": KUSEL_HOST})

        assert dataset_titles(response) == {"Pegel Glan", "Pegel Blies"}

    def test_api_answers_the_same_on_every_host(self, app, world):
        result = app.get("/api/3/action/package_search", **on(KUSEL_HOST)).json["result"]

        assert result["count"] == 2
        assert {dataset["id"] for dataset in result["results"]} == {world["kusel"]["id"], world["wendel"]["id"]}

    def test_dcat_catalog_answers_the_same_on_every_host(self, app, world):
        everything = {world["kusel"]["id"], world["wendel"]["id"]}

        assert identifiers(graph_of(app.get("/catalog.ttl", **on(KUSEL_HOST)))) == everything
        negotiated = app.get("/", headers={"Host": KUSEL_HOST, "Accept": "text/turtle"})
        assert identifiers(graph_of(negotiated)) == everything

    def test_other_municipalitys_page_is_still_reachable(self, app):
        response = app.get("/kommune/landkreis-sankt-wendel", **on(KUSEL_HOST))

        assert response.status_code == 200 and "Pegel Blies" in response.get_data(as_text=True)


@pytest.mark.ckan_config("ckanext.tenant.hosts", "daten.atlantis.example=atlantis")
@pytest.mark.usefixtures("world")
def test_unknown_tenant_is_logged_and_its_host_unscoped(app, caplog, monkeypatch):
    hosts._warned.discard("atlantis")
    # test.ini's logging config does not propagate ckanext.* to the root logger (where caplog listens), and
    # loading it in the test process disables loggers created before: listen on ours directly.
    logger = logging.getLogger(hosts.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    logger.addHandler(caplog.handler)
    try:
        response = app.get("/dataset/", **on("daten.atlantis.example"))
        app.get("/", **on("daten.atlantis.example"))
    finally:
        logger.removeHandler(caplog.handler)

    assert dataset_titles(response) == {"Pegel Glan", "Pegel Blies"}
    warnings = [record.getMessage() for record in caplog.records if record.name == hosts.__name__]
    assert len(warnings) == 1  # once per process, not per request
    assert "'atlantis', which is not an active organisation" in warnings[0]


class TestParse:
    def test_entries(self):
        assert hosts.parse("a.example=kaiserslautern  B.Example:8080=landkreis-kusel\n", "https://daten.example") == {
            "a.example": "kaiserslautern", "b.example:8080": "landkreis-kusel"}
        assert hosts.parse([], "https://daten.example") == {}

    @pytest.mark.parametrize("value, message", [
        ("daten.kusel.example", "'daten.kusel.example' is not an entry of the form host=tenant"),
        ("daten.kusel.example=", "'daten.kusel.example=' is not an entry of the form host=tenant"),
        ("https://daten.kusel.example=landkreis-kusel", "is not an entry of the form host=tenant"),
        ("a.example=kusel a.example=wendel", "host 'a.example' is listed twice"),
        ("daten.example=kaiserslautern", "'daten.example' is the host of ckan.site_url"),
    ])
    def test_mistakes_are_named(self, value, message):
        with pytest.raises(CkanConfigurationException, match=re.escape(message)):
            hosts.parse(value, "https://daten.example/")


def test_malformed_mapping_stops_ckan_at_startup(ckan_config, tmp_path):
    test_ini = Path(ckan_config["__file__"]).resolve()
    ini = tmp_path / "bad-hosts.ini"
    logging_sections = test_ini.read_text().split("[loggers]", 1)[1]
    ini.write_text(f"[app:main]\nuse = config:{test_ini}\n"
                   f"ckanext.tenant.hosts = daten.kusel.example:landkreis-kusel\n\n[loggers]{logging_sections}")

    started = subprocess.run([str(Path(sys.executable).with_name("ckan")), "-c", str(ini), "tenant", "list"],
                             capture_output=True, text=True, timeout=120)

    assert started.returncode != 0
    assert ("ckanext.tenant.hosts: 'daten.kusel.example:landkreis-kusel' is not an entry of the form "
            "host=tenant") in started.stderr
