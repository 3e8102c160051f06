"""The ``pegel_view`` chart view on real services: which resources get it (created and harvested series),
and what its page shows before any JavaScript runs (current value, level, stale notice, range links, the
table of the readings, the data attributes the chart module reads), with the visitor's permissions."""
import html
import json
import re

import pytest

import ckan.lib.datapreview as datapreview
from ckan.cli.cli import ckan as ckan_command
from ckan.tests.helpers import call_action

from ckanext.pegel import preview, series
from ckanext.pegel.harvesters import mapping
from ckanext.pegel.tests.harvesters.feed import (  # noqa: F401 (fixtures)
    KOBLENZ, create_source, datasets, feed, municipalities, pegelonline_fixtures, run,
)
from ckanext.pegel.tests.ingest.fixtures import clean_datastore  # noqa: F401
from ckanext.pegel.tests.logic.stations import MELDESTUFEN, create_station, people_and_municipalities
from ckanext.suedwest.tests import factories

CHARACTERISTIC = json.dumps([{"shortname": "MNW", "value": 120, "unit": "cm"},
                             {"shortname": "MW", "value": 210, "unit": "cm"},
                             {"shortname": "MHW", "value": 430, "unit": "cm"}])


@pytest.fixture
def world(clean_datastore, clean_index):  # noqa: F811
    return people_and_municipalities()


@pytest.fixture
def station(world):
    """A station of Landkreis Kusel; ``readings`` are (minutes ago, value in cm). Returns the series resource."""

    def make(readings=(), private=False, **fields):
        return create_station(world["sysadmin"], world["kusel"], "Pegel Kusel (Kuselbach)", readings, private,
                              **fields)

    return make


def chart_views(resource_id):
    return [view for view in call_action("resource_view_list", id=resource_id) if view["view_type"] == "pegel_view"]


def resource_page(app, resource, user=None, status=200, **params):
    environ = {"REMOTE_USER": user["name"]} if user else {}
    response = app.get(f"/dataset/{resource['package_id']}/resource/{resource['id']}", query_string=params,
                       extra_environ=environ, status=status)
    return response.get_data(as_text=True)


def section(page):
    """The opening tag of the chart's root element, as attributes."""
    match = re.search(r'<section class="pegel-chart"[^>]*>', page)
    assert match, "no pegel-chart section on the page"
    return {name: html.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', match.group(0))}


def payload(page):
    match = re.search(r'<script type="application/json" class="pegel-chart__payload">(.*?)</script>', page, re.S)
    assert match, "no embedded payload"
    return json.loads(match.group(1))


def table_rows(page):
    """(time, values...) of the table body, as the visitor reads them."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                 for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows.append(cells)
    return rows


def text(page):
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


class TestWhichResources:
    def test_only_series_resources_can_be_viewed(self):
        assert preview.can_view({"resource": {series.STATION_FIELD: "abc", series.SERIES_FIELD: "W"}})
        assert not preview.can_view({"resource": {"url": "http://example.org/data.csv", "format": "CSV"}})
        assert not preview.can_view({"resource": {series.STATION_FIELD: "abc"}})
        assert not preview.can_view({"resource": {series.SERIES_FIELD: "W", series.STATION_FIELD: ""}})

    def test_a_created_series_gets_the_chart_and_an_ordinary_resource_does_not(self, world):
        dataset = factories.Dataset(
            owner_org=world["kusel"]["id"], user=world["sysadmin"],
            resources=[{"url": "http://example.org/series", "name": "Wasserstand",
                        series.STATION_FIELD: "kusel-1", series.SERIES_FIELD: series.WATER_LEVEL},
                       {"url": "http://example.org/stationen.csv", "name": "Stationen", "format": "CSV"}])
        live, table = dataset["resources"]

        [view] = chart_views(live["id"])
        assert view["title"] == "Wasserstand"
        assert chart_views(table["id"]) == []
        # In the form for a new view, the chart is offered for the series only.
        package = call_action("package_show", id=dataset["id"])
        offered = {name: [plugin.info()["name"] for plugin in datapreview.get_allowed_view_plugins(
            {"resource": resource, "package": package})] for name, resource in [("live", live), ("table", table)]}
        assert "pegel_view" in offered["live"] and "pegel_view" not in offered["table"]

    def test_a_resource_added_to_a_station_later_gets_the_chart(self, world):
        dataset = factories.Dataset(owner_org=world["kusel"]["id"], user=world["sysadmin"],
                                    resources=[{"url": "http://example.org/fotos.zip", "name": "Fotos"}])

        resource = call_action("resource_create", {"user": world["sysadmin"]["name"]}, package_id=dataset["id"],
                               url="http://example.org/series", name="Wasserstand",
                               **{series.STATION_FIELD: "kusel-2", series.SERIES_FIELD: series.WATER_LEVEL})

        assert len(chart_views(resource["id"])) == 1

    @pytest.mark.usefixtures("clean_datastore", "clean_index")
    def test_a_harvested_series_gets_the_chart(self, feed, municipalities):  # noqa: F811
        run(create_source(feed.url, {"stations": [KOBLENZ], "owner": "landkreis-mayen-koblenz"}))

        dataset = datasets()[KOBLENZ]
        by_role = {resource[mapping.ROLE_FIELD]: resource for resource in dataset["resources"]}
        assert len(chart_views(by_role[mapping.SERIES]["id"])) == 1
        for role in (mapping.CURRENT, mapping.STATION, mapping.CHARACTERISTIC_VALUES):
            assert chart_views(by_role[role]["id"]) == [], role


    @pytest.mark.ckan_config("ckan.views.default_views", "datatables_view")
    def test_stations_from_before_get_the_chart_with_ckans_views_command(self, cli, world, station):
        resource = station([(0, 100.0)])
        other = call_action("resource_create", {"user": world["sysadmin"]["name"]},
                            package_id=resource["package_id"], url="http://example.org/fotos.zip", name="Fotos")
        assert chart_views(resource["id"]) == []

        result = cli.invoke(ckan_command, ["views", "create", "pegel_view", "--yes"])

        assert result.exit_code == 0, result.output
        [view] = chart_views(resource["id"])
        assert view["title"] == "Wasserstand"
        assert chart_views(other["id"]) == []


class TestFormats:
    """The server's first page and pegel-chart.js (Intl.NumberFormat, Intl.DateTimeFormat) write the same."""

    @pytest.mark.parametrize("value, german", [
        (335.0, "335"), (312.5, "312,5"), (1312.46, "1.312,5"), (-3.0, "-3"), (2.25, "2,3"), (-2.55, "-2,6"),
        (0.04, "0"), (None, "\u2013")])
    def test_numbers_have_at_most_one_decimal_rounded_like_intl(self, value, german):
        assert preview.format_number(value, "de") == german

    def test_times_are_german_local_time_in_winter_and_summer(self):
        assert preview.format_time("2026-11-24T05:45:00Z", "de") == "24.11.2026, 06:45"
        assert preview.format_time("2026-07-04T05:45:00Z", "de") == "04.07.2026, 07:45"

    @pytest.mark.parametrize("minutes, german", [
        (1, "vor 1 Minute"), (45, "vor 45 Minuten"), (119, "vor 119 Minuten"), (185, "vor 3 Stunden"),
        (47 * 60, "vor 47 Stunden"), (49 * 60, "vor 2 Tagen"), (24 * 60 * 9, "vor 9 Tagen")])
    def test_the_age_of_a_reading_in_german(self, app, minutes, german):
        with app.flask_app.test_request_context():
            assert preview.age_text(minutes) == german


class TestPage:
    def test_a_visitor_sees_value_level_table_and_the_chart_settings(self, app, world, station):
        resource = station([(50, 300.0), (35, 312.5), (20, 322.0), (5, 335.0)],
                           pegel_warning_levels=MELDESTUFEN, pegel_characteristic_values=CHARACTERISTIC)

        page = resource_page(app, resource)

        root = section(page)
        assert root["data-module"] == "pegel-chart"
        assert root["data-module-resource-id"] == resource["id"]
        assert root["data-module-api-url"] == "/api/3/action/pegel_series"
        assert root["data-module-refresh-seconds"] == "60"
        assert root["data-module-range"] == "24h"
        assert root["data-module-timezone"] == "Europe/Berlin"
        assert root["data-module-quantity"] == "Wasserstand"
        data = payload(page)
        assert [bucket[3] for bucket in data["buckets"]] == [300.0, 312.5, 322.0, 335.0]
        assert data["thresholds"]["levels"] == {"1": 250.0, "2": 320.0, "3": 400.0, "4": 480.0}
        assert data["thresholds"]["reference_lines"] == {"MNW": 120.0, "MW": 210.0, "MHW": 430.0}
        words = text(page)
        assert "Aktueller Wasserstand: 335 cm" in words
        assert "steigend" in words and "Meldestufe 2" in words
        assert "nicht aktuell" not in words
        # The table, newest first, German numbers and German local time.
        rows = table_rows(page)
        assert [row[1] for row in rows] == ["335", "322", "312,5", "300"]
        newest = preview.format_time(data["buckets"][-1][0], "de")
        assert rows[0][0] == newest and re.fullmatch(r"\d\d\.\d\d\.20\d\d, \d\d:\d\d", newest)
        assert "Wasserstand (cm)" in words
        assert "Wasserstand über die letzten 24 Stunden" in words
        # The scripts come from this host: uPlot from ckanext-suedwest, then the module.
        assert re.search(r'src="/webassets/ckanext-suedwest/[^"]*uplot\.js"', page)
        assert re.search(r'src="/webassets/ckanext-pegel/[^"]*pegel-chart\.js"', page)

    def test_the_range_links_work_without_javascript(self, app, world, station):
        resource = station([(3 * 24 * 60, 250.0), (60, 260.0)])

        page = resource_page(app, resource, pegel_range="7d")

        assert section(page)["data-module-range"] == "7d"
        assert [row[1] for row in table_rows(page)] == ["260", "250"]
        assert "Wasserstand über die letzten 7 Tage" in text(page)
        links = dict(re.findall(r'href="([^"]*)" role="button" data-pegel-range="(\w+)"', page))
        assert {value: html.unescape(key).split("pegel_range=")[1] for key, value in links.items()} == {
            "24h": "24h", "7d": "7d", "30d": "30d"}
        assert re.search(r'data-pegel-range="7d"\s+aria-pressed="true"', page)
        # An unknown range falls back to 24 hours.
        assert section(resource_page(app, resource, pegel_range="1y"))["data-module-range"] == "24h"

    def test_aggregated_ranges_show_mean_minimum_and_maximum(self, app, world, station):
        resource = station([(minute, 200.0 + minute % 7) for minute in range(0, 24 * 60, 2)])

        page = resource_page(app, resource)

        data = payload(page)
        assert data["aggregated"] is True
        words = text(page)
        assert "Mittelwert (cm)" in words and "Minimum (cm)" in words and "Maximum (cm)" in words
        rows = table_rows(page)
        assert len(rows) == len(data["buckets"]) and all(len(row) == 4 for row in rows)

    def test_an_old_series_carries_the_stale_notice(self, app, world, station):
        resource = station([(4 * 60 + 10, 180.0), (3 * 60 + 5, 181.0)])

        words = text(resource_page(app, resource))

        assert "Letzter Messwert vor 3 Stunden – die Daten sind nicht aktuell" in words

    def test_an_empty_series_says_so(self, app, world, station):
        resource = station()

        page = resource_page(app, resource)

        words = text(page)
        assert "Für diese Messreihe liegen noch keine Messwerte vor." in words
        assert "Im gewählten Zeitraum liegen keine Messwerte vor." in words
        assert payload(page)["buckets"] == []

    @pytest.mark.ckan_config("ckanext.pegel.chart_refresh_seconds", "300")
    def test_the_refresh_interval_is_configurable(self, app, world, station):
        resource = station([(0, 100.0)])

        assert section(resource_page(app, resource))["data-module-refresh-seconds"] == "300"

    def test_the_views_own_page_renders_the_chart(self, app, world, station):
        resource = station([(0, 100.0)])
        [view] = chart_views(resource["id"])

        response = app.get(f"/dataset/{resource['package_id']}/resource/{resource['id']}/view/{view['id']}")

        page = response.get_data(as_text=True)
        assert section(page)["data-module-resource-id"] == resource["id"]
        assert re.search(r'src="/webassets/ckanext-pegel/[^"]*pegel-chart\.js"', page)


class TestPermissions:
    def test_a_private_station_is_hidden_from_outsiders_and_shown_to_members(self, app, world, station):
        resource = station([(10, 140.0), (0, 141.0)], private=True)
        [view] = chart_views(resource["id"])
        view_url = f"/dataset/{resource['package_id']}/resource/{resource['id']}/view/{view['id']}"

        resource_page(app, resource, status=404)
        resource_page(app, resource, user=world["outsider"], status=404)
        app.get(view_url, status=404)
        app.get(view_url, extra_environ={"REMOTE_USER": world["outsider"]["name"]}, status=404)

        page = resource_page(app, resource, user=world["member"])
        assert [bucket[3] for bucket in payload(page)["buckets"]] == [140.0, 141.0]
        assert app.get(view_url, extra_environ={"REMOTE_USER": world["member"]["name"]}, status=200)
