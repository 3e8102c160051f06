"""A municipality's page in a real browser: Debian's headless Chromium, driven by Playwright, against a CKAN
server started on a free loopback port (the server and browser fixtures of ckanext-suedwest's browser test).

The visitor opens the overview /kommune, goes to Landkreis Kusel, reads its facts, the datasets by category and
the latest datasets, and follows a category to the search. The page is saved as ``test-artifacts/tenant-page.png``
(the overview as ``tenant-overview.png``).
Every request is recorded: none may leave 127.0.0.1 (the logo placeholder is an icon font CKAN ships).
"""
from urllib.parse import urlsplit

import pytest

from ckan.tests import helpers

from ckanext.suedwest.tests import factories as dcatde
from ckanext.suedwest.tests.browser.test_dataset_form_browser import (  # noqa: F401 (fixtures)
    BROWSER_TEST, browser_page, ckan_server,
)

THEME = "http://publications.europa.eu/resource/authority/data-theme/"

pytestmark = BROWSER_TEST


@pytest.fixture
def kusel(clean_db):
    """Two municipalities with datasets, created through the action API (committed, so the server sees them)."""
    sysadmin = {"user": helpers.call_action("get_site_user")["name"]}
    kusel = helpers.call_action(
        "organization_create", context=dict(sysadmin), name="landkreis-kusel", title="Landkreis Kusel",
        kind="Landkreis", federal_state="Rheinland-Pfalz", official_key="07336",
        website="https://www.landkreis-kusel.de", contact_email="opendata@kv-kus.de",
        description="Landkreis in der Westpfalz mit Sitz in Kusel. Rund 70.000 Einwohnerinnen und Einwohner "
                    "in 98 Ortsgemeinden rund um den Remigiusberg und das Glantal.")
    helpers.call_action("organization_create", context=dict(sysadmin), name="landkreis-sankt-wendel",
                        title="Landkreis Sankt Wendel", kind="Landkreis", federal_state="Saarland",
                        official_key="10046")
    for title, themes in [("Pegelstände des Glans in Altenglan", ["ENVI"]),
                          ("Radwege im Glantal", ["TRAN", "ENVI"]),
                          ("Haltestellen des Busverkehrs", ["TRAN"]),
                          ("Kindertagesstätten im Landkreis", ["EDUC"]),
                          ("Haushaltsplan 2026", ["ECON", "GOVE"])]:
        dcatde.Dataset(owner_org=kusel["id"], title=title, theme=[THEME + theme for theme in themes],
                       notes=f"{title}: offene Daten des Landkreises Kusel.")
    return kusel


def test_visitor_reads_a_municipalitys_page(ckan_server, kusel, browser_page, pytestconfig):
    from playwright.sync_api import expect

    page = browser_page.page
    artifacts = pytestconfig.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)

    page.goto(f"{ckan_server}/kommune")
    expect(page.locator("h1")).to_have_text("Kommunen")
    expect(page.locator(".tenant-card")).to_have_count(2)
    page.screenshot(path=str(artifacts / "tenant-overview.png"), full_page=True)
    page.locator(".tenant-card", has_text="Landkreis Kusel").click()

    expect(page.locator("h1.heading")).to_have_text("Landkreis Kusel")
    expect(page.locator(".tenant-facts")).to_contain_text("Kreisschlüssel")
    expect(page.locator(".tenant-count")).to_have_text("5 Datensätze")
    expect(page.locator(".tenant-logo-placeholder")).to_be_visible()
    themes = page.locator(".tenant-theme")
    expect(themes.first).to_contain_text("Umwelt")
    expect(page.locator(".tenant-theme", has_text="Verkehr")).to_contain_text("2")
    expect(page.locator(".tenant-latest .dataset-item")).to_have_count(5)
    page.screenshot(path=str(artifacts / "tenant-page.png"), full_page=True)

    page.locator(".tenant-theme", has_text="Verkehr").click()
    expect(page.locator(".dataset-item")).to_have_count(2)
    expect(page.locator(".dataset-list")).to_contain_text("Radwege im Glantal")

    outside = [url for url in browser_page.requests
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"
    assert browser_page.script_errors == []
