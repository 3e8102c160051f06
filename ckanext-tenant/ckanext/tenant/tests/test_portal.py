"""A municipality's page (/kommune/<name>) and the overview (/kommune), through CKAN's Flask app with the real
PostgreSQL and Solr."""
import re
from html import unescape

import pytest

from ckan.tests import factories, helpers

from ckanext.suedwest.tests import factories as dcatde

THEME = "http://publications.europa.eu/resource/authority/data-theme/"
KUSEL = {"name": "landkreis-kusel", "title": "Landkreis Kusel", "kind": "Landkreis",
         "federal_state": "Rheinland-Pfalz", "official_key": "07336", "website": "https://www.landkreis-kusel.de",
         "contact_email": "opendata@kv-kus.de", "description": "Landkreis in der Westpfalz mit Sitz in Kusel.",
         "image_url": ""}  # CKAN's factory would give every organisation a picture from the internet


def text(response):
    """The page as text without tags, for asserting what a visitor reads."""
    body = response.get_data(as_text=True)
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def section(response, css_class):
    """The HTML of the first element whose class list holds css_class, up to the next section."""
    body = response.get_data(as_text=True)
    start = body.index(css_class)
    end = body.find("<section", start)
    return body[start:end if end > 0 else None]


def member_headers(org):
    """Request headers of a new user who is a member of org (an API token identifies them on web pages too)."""
    user = factories.User()
    helpers.call_action("organization_member_create", id=org["id"], username=user["name"], role="member")
    return {"Authorization": factories.APIToken(user=user["name"])["token"]}


@pytest.fixture
def kusel():
    return factories.Organization(**KUSEL)


@pytest.mark.usefixtures("clean_db", "clean_index")
class TestTenantPage:
    def test_shows_the_municipality_its_facts_and_links(self, app, kusel):
        response = app.get("/kommune/landkreis-kusel")

        assert response.status_code == 200
        page = text(response)
        assert "Landkreis Kusel" in page and "Landkreis in der Westpfalz mit Sitz in Kusel." in page
        for fact in ("Art Landkreis", "Bundesland Rheinland-Pfalz", "Kreisschlüssel 07336",
                     "www.landkreis-kusel.de", "opendata@kv-kus.de"):
            assert fact in page, fact
        body = response.get_data(as_text=True)
        assert 'href="/kommune/landkreis-kusel/catalog.ttl"' in body
        assert 'href="/organization/landkreis-kusel"' in body
        assert 'href="/dataset/?organization=landkreis-kusel"' in body
        assert 'href="mailto:opendata@kv-kus.de"' in body
        assert "Noch keine Datensätze" in page

    def test_a_city_has_an_ags(self, app):
        factories.Organization(name="kaiserslautern", title="Stadt Kaiserslautern", official_key="07312000",
                               image_url="")

        assert "Amtlicher Gemeindeschlüssel (AGS) 07312000" in text(app.get("/kommune/kaiserslautern"))

    def test_logo_or_a_placeholder_never_an_external_picture(self, app, kusel):
        placeholder = section(app.get("/kommune/landkreis-kusel"), "tenant-logo-frame")
        assert "tenant-logo-placeholder" in placeholder and "<img" not in placeholder

        factories.Organization(name="linz-am-rhein", title="Stadt Linz am Rhein", image_url="linz-logo.png")
        logo = section(app.get("/kommune/linz-am-rhein"), "tenant-logo-frame")
        assert re.search(r'<img class="tenant-logo[^"]*" src="http://test.ckan.net/uploads/group/linz-logo.png"',
                         logo)
        assert 'alt="Logo von Stadt Linz am Rhein"' in logo

    def test_datasets_grouped_by_theme_with_german_labels_and_counts(self, app, kusel):
        dcatde.Dataset(owner_org=kusel["id"], theme=[THEME + "ENVI"])
        dcatde.Dataset(owner_org=kusel["id"], theme=[THEME + "ENVI", THEME + "TRAN"])
        dcatde.Dataset(owner_org=kusel["id"], theme=[THEME + "TRAN"])
        dcatde.Dataset(owner_org=kusel["id"], theme=[THEME + "HEAL"])
        other = factories.Organization()
        dcatde.Dataset(owner_org=other["id"], theme=[THEME + "HEAL"])

        themes = section(app.get("/kommune/landkreis-kusel"), "tenant-themes")

        labels = re.findall(r"<span>([^<]+)</span>\s*<span class=\"badge[^\"]*\">(\d+)</span>", themes)
        assert labels == [("Umwelt", "2"), ("Verkehr", "2"), ("Gesundheit", "1")]

    def test_theme_link_lists_exactly_that_themes_datasets(self, app, kusel):
        envi = dcatde.Dataset(owner_org=kusel["id"], title="Pegel der Lauter", theme=[THEME + "ENVI"])
        both = dcatde.Dataset(owner_org=kusel["id"], title="Radwege am Fluss", theme=[THEME + "TRAN", THEME + "ENVI"])
        dcatde.Dataset(owner_org=kusel["id"], title="Buslinien im Kreis", theme=[THEME + "TRAN"])
        other = factories.Organization()
        dcatde.Dataset(owner_org=other["id"], title="Pegel anderswo", theme=[THEME + "ENVI"])
        themes = section(app.get("/kommune/landkreis-kusel"), "tenant-themes")
        link = unescape(re.search(r'href="([^"]+)">\s*<span>Umwelt</span>', themes).group(1))

        results = text(app.get(link))

        assert "2 Datensätze gefunden" in results
        assert envi["title"] in results and both["title"] in results
        assert "Buslinien im Kreis" not in results and "Pegel anderswo" not in results

    def test_latest_datasets_newest_first_limited_by_the_setting(self, app, kusel, ckan_config, monkeypatch):
        monkeypatch.setitem(ckan_config, "ckanext.tenant.latest_datasets", 2)
        for title in ("Erster Datensatz", "Zweiter Datensatz", "Dritter Datensatz"):
            dcatde.Dataset(owner_org=kusel["id"], title=title)

        response = app.get("/kommune/landkreis-kusel")

        latest = section(response, "tenant-latest")
        assert re.findall(r'title="(\w+ Datensatz)"', latest) == ["Dritter Datensatz", "Zweiter Datensatz"]
        assert "3 Datensätze" in text(response)

    def test_private_datasets_only_for_members(self, app, kusel):
        dcatde.Dataset(owner_org=kusel["id"], title="Öffentliche Messwerte", theme=[THEME + "ENVI"])
        dcatde.Dataset(owner_org=kusel["id"], title="Interne Messwerte", private=True, theme=[THEME + "HEAL"])

        anonymous = app.get("/kommune/landkreis-kusel")
        stranger = app.get("/kommune/landkreis-kusel", headers=member_headers(factories.Organization()))
        member = app.get("/kommune/landkreis-kusel", headers=member_headers(kusel))

        for visitor in (anonymous, stranger):
            page = text(visitor)
            assert "Öffentliche Messwerte" in page and "1 Datensatz" in page
            assert "Interne Messwerte" not in page and "Gesundheit" not in page
        page = text(member)
        assert "Interne Messwerte" in page and "2 Datensätze" in page and "Gesundheit" in page
        assert "Privat" in section(member, "tenant-latest")

    def test_unknown_or_deleted_municipality_is_a_german_404(self, app):
        deleted = factories.Organization()
        helpers.call_action("organization_delete", {"user": helpers.call_action("get_site_user")["name"]},
                            id=deleted["id"])

        for name in ("atlantis", deleted["name"]):
            response = app.get(f"/kommune/{name}")
            assert response.status_code == 404
            assert "Kommune nicht gefunden" in text(response)

    def test_organisation_page_links_to_the_municipality_page(self, app, kusel):
        body = app.get("/organization/landkreis-kusel").get_data(as_text=True)

        assert re.search(r'<a href="/kommune/landkreis-kusel">.*?Kommunenseite</a>', body, re.S)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_overview_lists_the_municipalities_with_their_public_dataset_counts(app):
    kusel = factories.Organization(**KUSEL)
    wendel = factories.Organization(name="landkreis-sankt-wendel", title="Landkreis Sankt Wendel",
                                    kind="Landkreis", federal_state="Saarland", official_key="10046", image_url="")
    factories.Organization(name="ein-verein", title="Ein Verein ohne Schlüssel", image_url="")
    dcatde.Dataset(owner_org=kusel["id"])
    dcatde.Dataset(owner_org=kusel["id"])
    dcatde.Dataset(owner_org=kusel["id"], private=True)
    dcatde.Dataset(owner_org=wendel["id"])

    response = app.get("/kommune")

    page = text(response)
    assert page.index("Landkreis Kusel") < page.index("Landkreis Sankt Wendel")
    assert "Landkreis Kusel Landkreis, Rheinland-Pfalz 2 Datensätze" in page
    assert "Landkreis Sankt Wendel Landkreis, Saarland 1 Datensatz" in page
    assert "Ein Verein" not in page
    assert 'href="/kommune/landkreis-sankt-wendel"' in response.get_data(as_text=True)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_overview_lists_more_municipalities_than_one_organization_list_call_returns(app):
    # organization_list with all_fields gives at most 25 (ckan.group_and_organization_list_all_fields_max)
    for number in range(27):
        factories.Organization(name=f"gemeinde-{number:02d}", title=f"Gemeinde {number:02d}", kind="Gemeinde",
                               federal_state="Rheinland-Pfalz", official_key=f"073400{number:02d}", image_url="")

    page = text(app.get("/kommune"))

    assert all(f"Gemeinde {number:02d}" in page for number in range(27))


def test_main_navigation_leads_to_the_municipalities(app):
    body = app.get("/dataset/").get_data(as_text=True)

    assert re.search(r'<a href="/kommune"[^>]*>Kommunen</a>', body)
