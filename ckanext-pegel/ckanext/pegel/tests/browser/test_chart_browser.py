"""The ``pegel_view`` chart in a real browser: Debian's headless Chromium, driven by Playwright, against a CKAN
server started on a free loopback port (the server and browser fixtures of ckanext-suedwest's browser test).

A visitor opens the resource page of a station with two days of readings, Meldestufen and characteristic
values: the chart draws the readings (uPlot's canvas, checked by its pixels and the module's data
attributes), the four Meldestufen bands and the reference lines; the current value, trend and level are
shown; switching to 7 days reloads the readings from pegel_series; the table lists the values. A station
whose last reading is hours old carries the stale notice. The page is saved as ``test-artifacts/pegel-chart.png``.
Every request is recorded: none may leave 127.0.0.1.
"""
import html
import json
import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from ckan.tests import factories as ckan_factories
from ckan.tests import helpers

from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401 (fixture)
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station
from ckanext.suedwest.tests.browser.test_dataset_form_browser import (  # noqa: F401 (fixtures)
    BROWSER_TEST, browser_page, ckan_server,
)

CHARACTERISTIC = json.dumps([{"shortname": "MNW", "value": 120, "unit": "cm"},
                             {"shortname": "MW", "value": 210, "unit": "cm"},
                             {"shortname": "MHW", "value": 430, "unit": "cm"},
                             {"shortname": "HHW", "value": 612, "unit": "cm"}])

pytestmark = BROWSER_TEST


def three_days_rising():
    """A reading every 5 minutes for three days, a flood wave from about 200 cm up to 335 cm now: 288 raw
    readings in the last 24 hours, more than pegel_series returns raw (500) in the last 7 days."""
    return [(ago, round(200 + 135 * math.exp(-ago / 600.0) - 8 * math.sin(ago / 90.0), 1))
            for ago in range(0, 3 * 24 * 60, 5)]


@pytest.fixture
def stations(clean_datastore):  # noqa: F811
    """A current, a stale and an empty station of Landkreis Kusel (created through the actions: committed)."""
    sysadmin = ckan_factories.Sysadmin()
    kusel = helpers.call_action("organization_create", context={"user": sysadmin["name"]},
                                name="landkreis-kusel", title="Landkreis Kusel")
    current = create_station(sysadmin, kusel, "Pegel Kusel (Kuselbach)", three_days_rising(),
                             pegel_warning_levels=MELDESTUFEN, pegel_characteristic_values=CHARACTERISTIC)
    stale = create_station(sysadmin, kusel, "Pegel Altenglan (Glan)", [(5 * 60, 150.0), (4 * 60 + 30, 152.0)])
    empty = create_station(sysadmin, kusel, "Pegel Rammelsbach (Kuselbach)")
    return {"current": current, "stale": stale, "empty": empty}


def resource_url(base, resource):
    return f"{base}/dataset/{resource['package_id']}/resource/{resource['id']}"


def server_rows(page_html):
    """The cells of the table as the server rendered it."""
    body = re.search(r"<tbody>(.*?)</tbody>", page_html, re.S).group(1)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def canvas_pixels(page):
    """Counts of the chart canvas' non-transparent pixels and of its blue line pixels."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('.pegel-chart__plot canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0, line = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 0) painted++;
            // the series line (#1c5d99)
            if (data[i] < 60 && data[i + 1] > 70 && data[i + 1] < 120 && data[i + 2] > 130 && data[i + 3] > 200) line++;
        }
        return {painted, line};
    }""")


def test_visitor_reads_the_chart_of_a_station(ckan_server, stations, browser_page, pytestconfig):
    from playwright.sync_api import expect

    page = browser_page.page
    artifacts = pytestconfig.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    api_calls = []
    page.on("request", lambda request: api_calls.append(request.url) if "/api/3/action/pegel_series" in request.url
            else None)

    page.goto(resource_url(ckan_server, stations["current"]))
    chart = page.locator(".pegel-chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(page.locator(".pegel-chart__plot canvas")).to_be_visible()

    # The readings of the last 24 hours (the one of exactly 24 h ago has just left the range), drawn: 288 points
    # in the module, blue line pixels on the canvas.
    assert chart.get_attribute("data-points") == "288"
    assert chart.get_attribute("data-aggregated") == "false"
    pixels = canvas_pixels(page)
    assert pixels["line"] > 300, pixels
    # Meldestufen bands and reference lines that lie in the plot (HHW 612 cm is far above the readings).
    expect(chart).to_have_attribute("data-drawn-bands", "1 2 3 4")
    expect(chart).to_have_attribute("data-drawn-lines", "MNW MW MHW")
    # Current value, trend and level as the server computes them.
    current = page.locator(".pegel-chart__current")
    expect(current).to_contain_text("Aktueller Wasserstand: 335 cm")
    expect(current).to_contain_text("steigend")
    expect(current.locator(".pegel-badge")).to_have_text("Meldestufe 2")
    expect(current.locator(".pegel-badge")).to_have_class("pegel-chart__level pegel-badge pegel-level-meldestufe_2")
    expect(page.locator(".pegel-chart__stale")).to_be_hidden()
    # German time axis: hours as 06:00, no AM/PM.
    axis = page.locator(".pegel-chart__plot .u-axis").first.inner_text()
    assert "AM" not in axis and "PM" not in axis
    # The page was drawn from the embedded answer: no request yet.
    assert api_calls == []
    page.screenshot(path=str(artifacts / "pegel-chart.png"), full_page=True)
    # The module rewrote the table from the same answer: the same texts as the server's (numbers, German time).
    script_rows = page.evaluate("""() => Array.from(document.querySelectorAll('.pegel-chart__table tbody tr'),
        (row) => Array.from(row.children, (cell) => cell.textContent.trim()))""")
    server_page = page.request.get(resource_url(ckan_server, stations["current"])).text()
    assert script_rows == server_rows(server_page)
    assert len(script_rows) == 288

    # 7 days: a new request for the range; the server aggregates the 864 readings into buckets, the chart
    # draws their mean with the band from minimum to maximum.
    page.get_by_role("button", name="7 Tage").click()
    expect(chart).to_have_attribute("data-range", "7d")
    expect(chart).to_have_attribute("data-loads", "2")
    expect(chart).to_have_attribute("data-aggregated", "true")
    buckets = int(chart.get_attribute("data-points"))
    assert 150 < buckets < 864
    expect(page.locator(".pegel-chart__plot .u-legend")).to_contain_text("Minimum")
    expect(chart).to_have_attribute("data-drawn-bands", "1 2 3 4")
    assert [parse_qs(urlsplit(url).query)["range"] for url in api_calls] == [["7d"]]
    expect(page.locator("[data-pegel-range='7d']")).to_have_attribute("aria-pressed", "true")

    # The table on request: newest first, German numbers, the same values as the chart.
    table = page.locator(".pegel-chart__table")
    expect(table).to_be_hidden()
    page.get_by_role("button", name="Tabelle anzeigen").click()
    expect(table).to_be_visible()
    expect(table.locator("caption")).to_have_text("Wasserstand über die letzten 7 Tage")
    expect(table.locator("thead th")).to_have_text(["Zeit", "Mittelwert (cm)", "Minimum (cm)", "Maximum (cm)"])
    expect(table.locator("tbody tr")).to_have_count(buckets)
    newest = table.locator("tbody tr").first.locator("td")
    expect(newest.nth(2)).to_have_text("335")  # the maximum of the newest bucket is the latest reading
    first_time = table.locator("tbody tr").first.locator("th").inner_text()
    assert len(first_time) == len("24.11.2026, 06:45") and first_time[2] == "." and first_time[5] == "."
    page.get_by_role("button", name="Tabelle ausblenden").click()
    expect(table).to_be_hidden()

    outside = [url for url in browser_page.requests
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"
    assert browser_page.script_errors == []


def test_a_stale_series_says_the_data_are_not_current(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    page = browser_page.page

    page.goto(resource_url(ckan_server, stations["stale"]))

    chart = page.locator(".pegel-chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(page.locator(".pegel-chart__stale")).to_have_text(
        "Letzter Messwert vor 4 Stunden – die Daten sind nicht aktuell")
    # No thresholds: nothing to draw but the readings.
    expect(chart).to_have_attribute("data-drawn-bands", "")
    expect(chart).to_have_attribute("data-points", "2")
    assert browser_page.script_errors == []


def test_the_chart_refreshes_itself_but_not_in_a_hidden_tab(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    page = browser_page.page
    api_calls = []
    page.on("request", lambda request: api_calls.append(request.url) if "/api/3/action/pegel_series" in request.url
            else None)
    page.clock.install()  # the page's timers run on a clock the test can move forward

    page.goto(resource_url(ckan_server, stations["current"]))
    chart = page.locator(".pegel-chart")
    expect(chart).to_have_attribute("data-loads", "1")

    # After the refresh interval (60 s by default) the readings are polled again.
    page.clock.fast_forward("01:01")
    expect(chart).to_have_attribute("data-loads", "2")
    assert len(api_calls) == 1 and parse_qs(urlsplit(api_calls[0]).query)["range"] == ["24h"]

    # A hidden tab does not poll, however long it stays hidden ...
    set_hidden(page, True)
    page.clock.fast_forward("05:00")
    page.wait_for_timeout(500)
    assert len(api_calls) == 1
    # ... and catches up as soon as it is shown again.
    set_hidden(page, False)
    expect(chart).to_have_attribute("data-loads", "3")
    assert len(api_calls) == 2
    assert browser_page.script_errors == []


def set_hidden(page, hidden):
    """What the browser does when the visitor switches tabs: document.hidden changes, visibilitychange fires."""
    page.evaluate("""(hidden) => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_without_javascript_the_table_and_the_range_links_work(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    browser = browser_page.page.context.browser
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    context.on("request", lambda request: browser_page.requests.append(request.url))
    try:
        page = context.new_page()
        page.goto(resource_url(ckan_server, stations["current"]))

        table = page.locator(".pegel-chart__table")
        expect(table).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(288)
        expect(table.locator("tbody tr").first.locator("td")).to_have_text("335")
        expect(page.locator(".pegel-chart__table-toggle")).to_be_hidden()
        expect(page.locator(".pegel-chart__current")).to_contain_text("Aktueller Wasserstand: 335 cm")

        page.get_by_role("button", name="7 Tage").click()
        expect(table.locator("caption")).to_have_text("Wasserstand über die letzten 7 Tage")
        expect(table.locator("thead th")).to_have_count(4)
        assert "pegel_range=7d" in page.url
    finally:
        context.close()
    outside = [url for url in browser_page.requests
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests leaving 127.0.0.1: {outside}"


def test_no_readings_and_a_failing_api_give_german_notices(ckan_server, stations, browser_page):
    from playwright.sync_api import expect

    page = browser_page.page

    page.goto(resource_url(ckan_server, stations["empty"]))
    chart = page.locator(".pegel-chart")
    expect(chart).to_have_attribute("data-state", "empty")
    expect(page.locator(".pegel-chart__notice")).to_have_text("Im gewählten Zeitraum liegen keine Messwerte vor.")
    expect(page.locator(".pegel-chart__stale")).to_have_text("Für diese Messreihe liegen noch keine Messwerte vor.")
    expect(page.locator(".pegel-chart__plot canvas")).to_have_count(0)

    # The API failing while the page is open: a notice, the last readings stay.
    page.goto(resource_url(ckan_server, stations["stale"]))
    expect(chart).to_have_attribute("data-state", "ready")
    page.route("**/api/3/action/pegel_series*", lambda route: route.fulfill(
        status=500, content_type="text/html", body="<h1>Internal Server Error</h1>"))
    page.get_by_role("button", name="30 Tage").click()
    expect(chart).to_have_attribute("data-state", "error")
    expect(page.locator(".pegel-chart__notice")).to_have_text(
        "Die Messwerte konnten nicht geladen werden. Das Diagramm zeigt die zuletzt empfangenen Werte.")
    expect(page.locator(".pegel-chart__plot canvas")).to_be_visible()
    assert chart.get_attribute("data-points") == "2"
    assert browser_page.script_errors == []
