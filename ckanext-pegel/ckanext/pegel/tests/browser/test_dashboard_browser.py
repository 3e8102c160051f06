"""The Pegel dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against a CKAN server
started on a free loopback port (the server and browser fixtures of ckanext-suedwest's browser test).

A citizen opens /pegel: one circle marker per station with coordinates, coloured by its warning level (the
palette of pegel-dashboard.css), a popup with the reading, the list of all stations (most severe first, stale ones
marked), then filters by municipality; a new reading arrives and the page shows it after its next poll. The page
works without JavaScript too (the form filters on the server), and a municipality's page carries the widget.
The dashboard is saved as ``test-artifacts/pegel-dashboard.png``, the widget as ``pegel-tenant-widget.png``.
Every request is recorded: none may leave 127.0.0.1 (no tile server is configured: the map loads nothing).
"""
import datetime as dt
import json
import re
from urllib.parse import urlsplit

import pytest

from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.pegel.ingest import store
from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station
from ckanext.suedwest.tests.browser.test_dataset_form_browser import (  # noqa: F401 (fixtures)
    BROWSER_TEST, browser_page, ckan_server,
)

RHEIN_VALUES = json.dumps([{"shortname": "MNW", "unit": "cm", "value": 60.0},
                           {"shortname": "MW", "unit": "cm", "value": 214.0},
                           {"shortname": "MHW", "unit": "cm", "value": 588.0}])
# The colours of pegel-dashboard.css as the browser computes them.
COLOURS = {"meldestufe_3": "rgb(224, 49, 49)", "below_1": "rgb(43, 138, 62)", "high": "rgb(232, 89, 12)",
           "normal": "rgb(43, 138, 62)", "meldestufe_1": "rgb(242, 194, 0)"}

pytestmark = BROWSER_TEST


@pytest.fixture
def stations(clean_datastore):  # noqa: F811
    """Stations of two municipalities, committed through the actions and the ingest store (the server sees
    them): name -> (station key, level class, point or None)."""
    sysadmin = ckan_factories.Sysadmin()
    # No image: the factory's default logo is an external URL, which the municipality's page would load.
    kusel = ckan_factories.Organization(name="landkreis-kusel", title="Landkreis Kusel", image_url="")
    myk = ckan_factories.Organization(name="landkreis-mayen-koblenz", title="Landkreis Mayen-Koblenz",
                                      image_url="")
    plan = [
        ("kuselbach", kusel, "Pegel Kusel (Kuselbach)", [(45, 380), (30, 392), (15, 401), (0, 412)],
         {"pegel_warning_levels": MELDESTUFEN}, [7.3984, 49.5393], "meldestufe_3"),
        ("glan", kusel, "Pegel Altenglan (Glan)", [(30, 180), (15, 181), (0, 182)],
         {"pegel_warning_levels": MELDESTUFEN}, [7.6672, 49.7068], "below_1"),
        ("lauter", kusel, "Pegel Lauterecken (Lauter)", [(10, 140)],
         {"pegel_warning_levels": MELDESTUFEN}, None, "below_1"),
        ("andernach", myk, "Pegel Andernach (Rhein)", [(15, 600), (0, 605)],
         {"pegel_characteristic_values": RHEIN_VALUES}, [7.3928, 50.4428], "high"),
        ("mosel", myk, "Pegel Cochem (Mosel)", [(400, 210)],
         {"pegel_characteristic_values": RHEIN_VALUES}, [7.1664, 50.1442], "normal"),
    ]
    made = {}
    for name, org, title, readings, fields, point, level in plan:
        resource = create_station(sysadmin, org, title, readings, **fields)
        area = {"text": title}
        if point:
            area["centroid"] = json.dumps({"type": "Point", "coordinates": point})
        dataset = call_action("package_patch", {"user": sysadmin["name"]}, id=resource["package_id"],
                              spatial_coverage=[area])
        made[name] = {"key": resource["pegel_station"], "resource_id": resource["id"], "level": level,
                      "point": point, "dataset": dataset["name"]}
    create_station(sysadmin, kusel, "Pegel Bauhof (intern)", [(0, 99)], private=True)
    return made


def marker_classes(page):
    """station key -> class attribute of its marker (an SVG path drawn by Leaflet)."""
    return page.eval_on_selector_all(
        "path.pegel-marker",
        "paths => Object.fromEntries(paths.map(p => [p.dataset.station, p.getAttribute('class')]))")


def test_citizen_reads_the_water_levels(ckan_server, stations, browser_page, pytestconfig):
    from playwright.sync_api import expect

    page = browser_page.page
    artifacts = pytestconfig.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)

    page.goto(f"{ckan_server}/dataset")
    page.locator(".navbar-nav a", has_text="Pegel").click()
    expect(page.locator("h1.heading")).to_have_text("Pegelstände")

    # The map: one marker per station with coordinates, in its level's colour; the stale one dashed.
    with_point = {s["key"]: s for s in stations.values() if s["point"]}
    expect(page.locator("path.pegel-marker")).to_have_count(len(with_point))
    markers = marker_classes(page)
    assert set(markers) == set(with_point)
    for key, station in with_point.items():
        assert f"pegel-level-{station['level']}" in markers[key].split()
        fill = page.locator(f"path.pegel-marker[data-station='{key}']").evaluate("p => getComputedStyle(p).fill")
        assert fill == COLOURS[station["level"]], (station, fill)
    assert "pegel-stale" in markers[stations["mosel"]["key"]].split()
    assert "pegel-stale" not in markers[stations["kuselbach"]["key"]].split()
    assert page.locator(".leaflet-tile").count() == 0  # no tile server configured: no tiles at all

    # The list: every public station (also the one without coordinates), most severe first.
    rows = page.locator("tr.pegel-station")
    expect(rows).to_have_count(5)
    assert rows.nth(0).get_attribute("data-station") == stations["kuselbach"]["key"]
    assert rows.nth(1).get_attribute("data-station") == stations["andernach"]["key"]
    expect(rows.nth(0)).to_contain_text("412 cm")
    expect(rows.nth(0)).to_contain_text("steigend")
    expect(rows.nth(0).locator(".pegel-badge")).to_have_text("Meldestufe 3")
    expect(page.locator(f"tr[data-station='{stations['mosel']['key']}'] .pegel-stale-badge")).to_have_text("veraltet")
    expect(page.locator(f"tr[data-station='{stations['lauter']['key']}']")).to_contain_text("140 cm")
    expect(page.locator(".pegel-stations")).not_to_contain_text("Bauhof")
    expect(page.locator(".pegel-legend")).to_contain_text("Meldestufe 4")

    # The popup of a marker, in German, with the local time and a link to the dataset.
    page.locator(f"path.pegel-marker[data-station='{stations['kuselbach']['key']}']").click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Pegel Kusel (Kuselbach)")
    expect(popup).to_contain_text("412 cm")
    expect(popup).to_contain_text("Meldestufe 3")
    expect(popup).to_contain_text("Gemessen")
    expect(popup.locator("a", has_text="Zum Datensatz")).to_have_attribute(
        "href", f"/dataset/{stations['kuselbach']['dataset']}")
    page.screenshot(path=str(artifacts / "pegel-dashboard.png"), full_page=True)
    page.locator(".leaflet-popup-close-button").click()

    # Filter by municipality: the list and the map follow, the address keeps the filter.
    page.select_option("select[name=kommune]", "landkreis-kusel")
    expect(rows).to_have_count(3)
    expect(page.locator("path.pegel-marker")).to_have_count(2)
    assert urlsplit(page.url).query == "kommune=landkreis-kusel"
    expect(page.locator(".pegel-update-status")).to_contain_text("Stand:")

    # A new reading: the next poll (here: the tab becomes visible again) recolours the station.
    glan = stations["glan"]
    store.write_series(glan["resource_id"], [{"time": dt.datetime.now(dt.timezone.utc), "value": 330.0,
                                              "unit": "cm", "quality": "ok", "source": "ttn"}])
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator(f"path.pegel-marker[data-station='{glan['key']}']")).to_have_class(
        re.compile(r"\bpegel-level-meldestufe_2\b"))
    expect(rows.nth(1)).to_contain_text("330 cm")
    expect(rows.nth(1).locator(".pegel-badge")).to_have_text("Meldestufe 2")

    # The municipality's page carries the widget with its own map and list.
    page.goto(f"{ckan_server}/kommune/landkreis-kusel")
    widget = page.locator(".pegel-widget")
    expect(widget.locator("path.pegel-marker")).to_have_count(2)
    expect(widget.locator("tr.pegel-station")).to_have_count(3)
    widget.screenshot(path=str(artifacts / "pegel-tenant-widget.png"))

    outside = [url for url in browser_page.requests
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"
    assert browser_page.script_errors == []


def test_filter_works_without_javascript(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    context = browser_page.page.context.browser.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(f"{ckan_server}/pegel")
        expect(page.locator("tr.pegel-station")).to_have_count(5)
        expect(page.locator(".pegel-map noscript")).to_have_count(1)
        page.select_option("select[name=kommune]", "landkreis-mayen-koblenz")
        page.locator(".pegel-filter-submit").click()
        expect(page.locator("tr.pegel-station")).to_have_count(2)
        assert urlsplit(page.url).query == "kommune=landkreis-mayen-koblenz"
    finally:
        context.close()


def test_the_dashboard_polls_but_not_in_a_hidden_tab(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    page = browser_page.page
    page.clock.install()  # the page's timers run on a clock the test can move forward
    page.goto(f"{ckan_server}/pegel")
    expect(page.locator("path.pegel-marker")).to_have_count(4)

    def polls():
        return len([url for url in browser_page.requests if "/api/3/action/pegel_status" in url])

    assert polls() == 0  # the first stations come with the page
    page.clock.fast_forward("01:01")  # ckanext.pegel.dashboard_refresh_seconds: 60 by default
    expect(page.locator(".pegel-update-status")).to_contain_text("Stand:")
    assert polls() == 1

    set_hidden(page, True)
    page.clock.fast_forward("05:00")
    page.wait_for_timeout(1000)  # real time for a request the page would have sent
    assert polls() == 1

    with page.expect_response(lambda response: "/api/3/action/pegel_status" in response.url):
        set_hidden(page, False)  # back in the tab: at once
    assert polls() == 2


def set_hidden(page, hidden):
    """What the browser does when the visitor switches tabs: document.hidden changes, visibilitychange fires."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)
