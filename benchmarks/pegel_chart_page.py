"""Benchmark: the cost of the ``pegel_view`` chart on a resource page (issue 5, item 4).

What is measured
----------------
The station of ``pegel_chart_payload.py`` (30 days of 1-minute readings, 43,200 rows) with its chart view.
The page of its series resource renders the chart's first state on the server: it calls ``pegel_series``
for the range (``?pegel_range=24h|7d|30d``), embeds the answer for the chart module and renders the table
of the points (up to 500 rows), so the page works without JavaScript. Timed per range, N times
(``--calls``), anonymous ``GET`` through CKAN's full WSGI stack in this process (werkzeug test client):
median and p95 of the page, its size, and side by side in the same run

- the baseline: the page of another resource of the same dataset with a DataStore table but no view,
  i.e. what the resource page costs anyway (CKAN shows the table's data dictionary on both);
- the JSON call the chart module makes afterwards (``/api/3/action/pegel_series``) for the same range.

The chart's own cost is the page's time minus the baseline's.

How
---
As ``pegel_chart_payload.py`` (test configuration, safety rules of ``_common.py``): reset the test database
and this site's Solr documents, create the station (its view explicitly, whatever
``ckan.views.default_views`` says) and an ordinary resource, write the readings, time, clean up.

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/pegel_chart_page.py
    .venv/bin/python benchmarks/pegel_chart_page.py --calls 50 --json
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (add_test_stack_arguments, CannotRun, create_sysadmin, format_table,  # noqa: E402
                     measure_in_ckan, percentile, progress, reset_test_database_and_index, run_main)
from pegel_chart_payload import RANGES, _drop_table, create_station, readings  # noqa: E402


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20, help="pages per range (median and p95 reported)")
    add_test_stack_arguments(parser, "leave the station and its table")
    return parser.parse_args(argv)


def run_benchmark(arguments):
    return measure_in_ckan(arguments, measure)


def timed(client, url, calls, query=None, expect=None):
    """Median and p95 (ms) of ``calls`` GETs after one warm-up, and the last body."""
    times, body = [], b""
    for _ in range(calls + 1):
        started = time.perf_counter()
        response = client.get(url, query_string=query or {})
        times.append(time.perf_counter() - started)
        body = response.get_data()
        if response.status_code != 200:
            raise CannotRun(f"GET {url} {query}: HTTP {response.status_code}: {body[:300]!r}")
        if expect and expect not in body:
            raise CannotRun(f"GET {url} {query}: {expect!r} not in the page")
    times = times[1:]
    return {"median_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(percentile(times, 0.95) * 1000, 1), "kib": round(len(body) / 1024, 1)}


def measure(arguments, app, stop_if_pytest_runs):
    import ckan.plugins.toolkit as tk
    from werkzeug.test import Client

    from ckanext.pegel.ingest import store

    progress("resetting the test database and Solr documents")
    reset_test_database_and_index()
    admin = create_sysadmin("pegel-benchmark")
    resource_id = create_station(admin)
    context = {"user": admin}
    if not [v for v in tk.get_action("resource_view_list")(dict(context), {"id": resource_id})
            if v["view_type"] == "pegel_view"]:
        tk.get_action("resource_view_create")(dict(context), {
            "resource_id": resource_id, "view_type": "pegel_view", "title": "Wasserstand"})
    package_id = tk.get_action("resource_show")(dict(context), {"id": resource_id})["package_id"]
    # The baseline has a DataStore table too, so both pages show CKAN's data dictionary of it.
    ordinary = tk.get_action("datastore_create")(dict(context), {
        "resource": {"package_id": package_id, "name": "Stationen", "format": "CSV"},
        "fields": [{"id": "station", "type": "text"}, {"id": "name", "type": "text"}], "force": True})
    ordinary = tk.get_action("resource_show")(dict(context), {"id": ordinary["resource_id"]})
    for view in tk.get_action("resource_view_list")(dict(context), {"id": ordinary["id"]}):
        tk.get_action("resource_view_delete")(dict(context), {"id": view["id"]})
    rows = readings(dt.datetime.now(dt.timezone.utc))
    progress(f"writing {len(rows):,} readings in one batch")
    store.write_series(resource_id, rows)
    client = Client(app)
    page = f"/dataset/{package_id}/resource/{resource_id}"
    results = []
    try:
        stop_if_pytest_runs()
        progress(f"baseline: the page of a DataStore resource without a view, {arguments.calls} calls")
        baseline = timed(client, f"/dataset/{package_id}/resource/{ordinary['id']}", arguments.calls)
        for range_key in RANGES:
            stop_if_pytest_runs()
            progress(f"{range_key}: {arguments.calls} pages and API calls")
            chart = timed(client, page, arguments.calls, {"pegel_range": range_key}, expect=b'data-module="pegel-chart"')
            api = timed(client, "/api/3/action/pegel_series", arguments.calls,
                        {"resource_id": resource_id, "range": range_key})
            results.append({"range": range_key, "page": chart, "api": api,
                            "chart_ms": round(chart["median_ms"] - baseline["median_ms"], 1),
                            "ratio": round(chart["median_ms"] / baseline["median_ms"], 2)})
    finally:
        if not arguments.keep_data:
            progress("cleaning up")
            _drop_table(resource_id)
            reset_test_database_and_index()
    return {"calls": arguments.calls, "baseline": baseline, "ranges": results, "readings": len(rows),
            "config": arguments.config}


def print_report(results):
    print(f"pegel_view on the resource page: one station, {results['readings']:,} readings (1 a minute); "
          f"{results['calls']} anonymous GETs per row through CKAN's WSGI stack in-process (werkzeug test "
          f"client), {results['config']}; load average {results['load_average'][0]} at the start, "
          f"{results['load_average'][1]} at the end ({os.cpu_count()} CPUs)")
    base = results["baseline"]
    rows = [("no view (baseline)", base["median_ms"], base["p95_ms"], base["kib"], None, None, None)]
    rows += [(f"chart {r['range']}", r["page"]["median_ms"], r["page"]["p95_ms"], r["page"]["kib"], r["chart_ms"],
              r["ratio"], r["api"]["median_ms"]) for r in results["ranges"]]
    print(format_table([("page", "<"), ("median ms", ">.1f"), ("p95 ms", ">.1f"), ("KiB", ">.1f"),
                        ("chart ms", ">.1f"), ("x baseline", ">.2f"), ("API median ms", ">.1f")], rows))


def main(argv=None):
    return run_main("pegel_chart_page", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
