"""Benchmark: the Pegel dashboard ``/pegel`` with as many stations as PEGELONLINE lists (605).

What is measured
----------------
N station datasets (``--stations``, default 605), spread over the six municipalities of
``config/tenants.yaml``, each with its series table and four readings (levels of every class: Meldestufen
or MNW/MHW). Then, as an anonymous visitor, through CKAN's full WSGI stack in this process (werkzeug test
client: no network, no web server), ``--calls`` times each:

- ``GET /api/3/action/pegel_status``: what the dashboard's script polls (the baseline);
- ``GET /pegel``: the whole page, whose list and map data the server renders from the same action;
- ``GET /pegel?kommune=<one municipality>``: the filtered page;
- ``GET /kommune/<that municipality>``: its page with the water-level widget.

Printed per request: median and p95 of the response time, the body size in KiB, and the ratio of the
page's median to the action's median measured in the same run (the rendering cost of list and map data).
For the full page also: the size of the map data attribute, and a check that every station is listed.

How
---
CKAN is loaded from the TEST configuration (``test.ini`` plus the ``CKAN_*`` environment overrides), with
the safety rules of ``_common.py`` (test stack only; not while a pytest run uses the same stack; one
benchmark per database). It resets the test database and this site's Solr documents, seeds, measures, drops
the series tables and resets again (unless ``--keep-data``).

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/pegel_dashboard.py
    .venv/bin/python benchmarks/pegel_dashboard.py --stations 100 --calls 10 --json
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (REPOSITORY_ROOT, add_test_stack_arguments, batched_solr_commits, CannotRun,  # noqa: E402
                     create_sysadmin, format_table, measure_in_ckan, percentile, progress,
                     reset_test_database_and_index, run_main, wait_for_solr)

ENVI = "http://publications.europa.eu/resource/authority/data-theme/ENVI"
DL_ZERO = "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
MELDESTUFEN = '{"1": 250, "2": 320, "3": 400, "4": 480}'
CHARACTERISTIC = json.dumps([{"shortname": "MNW", "unit": "cm", "value": 60.0},
                             {"shortname": "MW", "unit": "cm", "value": 214.0},
                             {"shortname": "MHW", "unit": "cm", "value": 588.0}])
# Latest values that fall into every class of both kinds, in turn.
VALUES = (120, 260, 330, 410, 500, 40, 300, 620)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=605, help="station datasets to create")
    parser.add_argument("--calls", type=int, default=20, help="calls per request (median and p95 reported)")
    add_test_stack_arguments(parser, "leave the stations and their tables")
    return parser.parse_args(argv)


def seed(admin, count, stop_if_pytest_runs):
    """``count`` stations over the six municipalities; returns the series resource ids and the tenant names."""
    import ckan.plugins.toolkit as tk

    from ckanext.pegel import series
    from ckanext.pegel.ingest import store
    from ckanext.tenant import tenants

    owners = [tk.get_action("organization_create")({"user": admin}, dict(tenant))
              for tenant in tenants.load(REPOSITORY_ROOT / "config" / "tenants.yaml")]
    now = dt.datetime.now(dt.timezone.utc)
    resource_ids = []
    with batched_solr_commits():
        for number in range(count):
            if number % 50 == 0:
                stop_if_pytest_runs()
                progress(f"station {number + 1:,} of {count:,}")
            owner = owners[number % len(owners)]
            lon, lat = 6.2 + (number % 29) * 0.08, 49.1 + (number // 29) * 0.07
            fields = ({"pegel_warning_levels": MELDESTUFEN} if number % 2 else
                      {"pegel_characteristic_values": CHARACTERISTIC})
            dataset = tk.get_action("package_create")({"user": admin}, {
                "name": f"pegel-benchmark-{number:04d}", "title": f"Pegel Messstelle {number:04d} (Bach {number % 37})",
                "owner_org": owner["id"], "notes": "Wasserstand, Benchmark.", "theme": [ENVI],
                "license_id": DL_ZERO,
                "spatial_coverage": [{"text": f"Messstelle {number}", "centroid": json.dumps(
                    {"type": "Point", "coordinates": [round(lon, 4), round(lat, 4)]})}],
                "resources": [{"url": "http://example.org/series", "name": "Wasserstand",
                               series.STATION_FIELD: f"benchmark-{number:04d}",
                               series.SERIES_FIELD: series.WATER_LEVEL, **fields}]})
            resource_id = dataset["resources"][0]["id"]
            series.ensure_series_table({"user": admin}, resource_id)
            value = VALUES[number % len(VALUES)]
            store.write_series(resource_id, [
                {"time": now - dt.timedelta(minutes=15 * step), "value": value - 3 * step, "unit": "cm",
                 "quality": "ok", "source": "pegelonline"} for step in range(4)])
            resource_ids.append(resource_id)
    wait_for_solr(count)
    return resource_ids, [owner["name"] for owner in owners]


def timed(client, url, calls, stop_if_pytest_runs):
    """Median and p95 (ms) of ``calls`` GETs after one warm-up call, and the last body."""
    stop_if_pytest_runs()
    times, body = [], b""
    for _ in range(calls + 1):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        body = response.get_data()
        if response.status_code != 200:
            raise CannotRun(f"{url}: HTTP {response.status_code}: {body[:300]!r}")
    times = times[1:]
    return {"url": url, "median_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(percentile(times, 0.95) * 1000, 1), "kib": round(len(body) / 1024, 1)}, body


def run_benchmark(arguments):
    return measure_in_ckan(arguments, measure)


def measure(arguments, app, stop_if_pytest_runs):
    from werkzeug.test import Client

    progress("resetting the test database and Solr documents")
    reset_test_database_and_index()
    admin = create_sysadmin("pegel-benchmark")
    resource_ids = []
    try:
        started = time.perf_counter()
        resource_ids, tenants = seed(admin, arguments.stations, stop_if_pytest_runs)
        seed_seconds = time.perf_counter() - started
        client = Client(app)
        one = tenants[0]
        requests = []
        for url in ("/api/3/action/pegel_status", "/pegel", f"/pegel?kommune={one}", f"/kommune/{one}"):
            progress(f"{url}: {arguments.calls} calls")
            result, body = timed(client, url, arguments.calls, stop_if_pytest_runs)
            if url == "/api/3/action/pegel_status":
                result["stations"] = len(json.loads(body)["result"]["stations"])
            if url == "/pegel":
                page = body.decode()
                result["rows"] = len(re.findall(r'<tr class="pegel-station', page))
                data = re.search(r'class="pegel-stations-data">(.*?)</script>', page, re.S)
                result["map_data_kib"] = round(len(data.group(1).encode()) / 1024, 1) if data else None
                result["map_stations"] = len(json.loads(data.group(1))) if data else None
            requests.append(result)
    finally:
        if not arguments.keep_data:
            progress("cleaning up")
            _drop_tables(resource_ids)
            reset_test_database_and_index()
    baseline = requests[0]["median_ms"]
    for result in requests:
        result["ratio"] = round(result["median_ms"] / baseline, 2) if baseline else None
    return {"stations": arguments.stations, "seed_seconds": round(seed_seconds, 1), "calls": arguments.calls,
            "requests": requests, "config": arguments.config}


def _drop_tables(resource_ids):
    import sqlalchemy as sa

    from ckanext.datastore.backend.postgres import get_write_engine, identifier

    with get_write_engine().begin() as connection:
        for resource_id in resource_ids:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {identifier(resource_id)} CASCADE"))


def print_report(results):
    print(f"Pegel dashboard: {results['stations']:,} stations over six municipalities (seeded in "
          f"{results['seed_seconds']:.0f} s); {results['calls']} anonymous GET calls per request through CKAN's "
          f"WSGI stack in-process (werkzeug test client), {results['config']}; load average "
          f"{results['load_average'][0]} at the start, {results['load_average'][1]} at the end ({os.cpu_count()} CPUs)")
    rows = [(r["url"], r["median_ms"], r["p95_ms"], r["kib"], r["ratio"]) for r in results["requests"]]
    print(format_table([("request", "<"), ("median ms", ">.1f"), ("p95 ms", ">.1f"), ("KiB", ">.1f"),
                        ("x pegel_status", ">.2f")], rows))
    page = results["requests"][1]
    print(f"/pegel lists {page['rows']:,} stations (pegel_status: {results['requests'][0]['stations']:,}); "
          f"map data {page['map_data_kib']} KiB for {page['map_stations']:,} stations")
    if page["rows"] != results["requests"][0]["stations"]:
        print("INVALID: the page does not list every station pegel_status returns")


def main(argv=None):
    return run_main("pegel_dashboard", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
