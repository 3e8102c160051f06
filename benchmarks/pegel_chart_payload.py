"""Benchmark: size and time of the chart payload of ``pegel_series`` (issue 5, item 7).

What is measured
----------------
One station with 30 days of 1-minute readings (43,200 rows, written in one batch by the ingest store,
``ingest/store.py``). Then ``GET /api/3/action/pegel_series?resource_id=...&range=24h|7d|30d`` as an
anonymous caller, as the chart of ``pegel_view`` polls it, N times per range (``--calls``), through CKAN's
full WSGI stack (middleware, Flask view, auth, action, JSON encoding) in this process with a werkzeug
test client: no network and no web server, so the figures are the application's time only. Printed per
range: the payload size in KiB (the JSON body as served), the number of buckets and the bucket size,
median and p95 of the response time. For comparison, the raw size: every reading of the range as JSON
(``[time, value]`` pairs, the smallest form a chart could take them without downsampling).

How
---
CKAN is loaded from the TEST configuration (``test.ini`` plus the ``CKAN_*`` environment overrides),
with the safety rules of ``_common.py`` (test stack only; not while a pytest run uses the same stack; one
benchmark per database). Steps: reset the test database and this site's Solr documents; create a
sysadmin, the municipality Landkreis Kusel and one station dataset with its series table; write the
readings; time the calls; drop the table and reset again (unless ``--keep-data``).

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/pegel_chart_payload.py
    .venv/bin/python benchmarks/pegel_chart_payload.py --calls 50 --points 1000 --json
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (REPOSITORY_ROOT, add_test_stack_arguments, CannotRun, create_sysadmin,  # noqa: E402
                     format_table, measure_in_ckan, percentile, progress,
                     reset_test_database_and_index, run_main)

OWNER = "landkreis-kusel"
RANGES = ("24h", "7d", "30d")
DAYS = 30
ENVI = "http://publications.europa.eu/resource/authority/data-theme/ENVI"
DL_ZERO = "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30, help="calls per range (median and p95 reported)")
    parser.add_argument("--points", type=int, default=None, help="points parameter (default: the action's)")
    add_test_stack_arguments(parser, "leave the station and its table")
    return parser.parse_args(argv)


def readings(now):
    """One reading a minute for DAYS days up to now: a slow wave with small steps, like a stream."""
    return [{"time": now - dt.timedelta(minutes=ago),
             "value": round(120 + 40 * math.sin(ago / 900.0) + (ago % 37) / 10.0, 1),
             "unit": "cm", "quality": "ok", "source": "ttn"} for ago in range(DAYS * 24 * 60)]


def create_station(admin):
    import ckan.plugins.toolkit as tk

    from ckanext.pegel import series
    from ckanext.tenant import tenants

    [tenant] = [t for t in tenants.load(REPOSITORY_ROOT / "config" / "tenants.yaml") if t["name"] == OWNER]
    owner = tk.get_action("organization_create")({"user": admin}, dict(tenant))
    dataset = tk.get_action("package_create")({"user": admin}, {
        "name": "pegel-benchmark-kuselbach", "title": "Pegel Kusel (Kuselbach)", "owner_org": owner["id"],
        "notes": "Wasserstand des Kuselbachs, gemessen jede Minute.", "theme": [ENVI], "license_id": DL_ZERO,
        "resources": [{"url": "http://example.org/series", "name": "Wasserstand",
                       series.STATION_FIELD: "kusel-kuselbach", series.SERIES_FIELD: series.WATER_LEVEL,
                       "pegel_warning_levels": '{"1": 150, "2": 170, "3": 190, "4": 210}'}]})
    resource_id = dataset["resources"][0]["id"]
    series.ensure_series_table({"user": admin}, resource_id)
    return resource_id


def run_benchmark(arguments):
    return measure_in_ckan(arguments, measure)


def measure(arguments, app, stop_if_pytest_runs):
    from werkzeug.test import Client

    from ckanext.pegel.ingest import store

    progress("resetting the test database and Solr documents")
    reset_test_database_and_index()
    admin = create_sysadmin("pegel-benchmark")
    resource_id = create_station(admin)
    now = dt.datetime.now(dt.timezone.utc)
    rows = readings(now)
    progress(f"writing {len(rows):,} readings in one batch")
    started = time.perf_counter()
    written = store.write_series(resource_id, rows)
    write_seconds = time.perf_counter() - started
    client = Client(app)
    results = []
    try:
        for range_key in RANGES:
            stop_if_pytest_runs()
            progress(f"{range_key}: {arguments.calls} calls")
            query = {"resource_id": resource_id, "range": range_key}
            if arguments.points:
                query["points"] = arguments.points
            times, body = [], b""
            for _ in range(arguments.calls + 1):  # the first call warms caches and is not counted
                started = time.perf_counter()
                response = client.get("/api/3/action/pegel_series", query_string=query)
                times.append(time.perf_counter() - started)
                body = response.get_data()
                if response.status_code != 200:
                    raise CannotRun(f"pegel_series {range_key}: HTTP {response.status_code}: {body[:300]!r}")
            times = times[1:]
            result = json.loads(body)["result"]
            start = dt.datetime.fromisoformat(result["start"].replace("Z", "+00:00"))
            end = dt.datetime.fromisoformat(result["end"].replace("Z", "+00:00"))
            raw = [[row["time"].isoformat().replace("+00:00", "Z"), row["value"]]
                   for row in rows if start <= row["time"] < end]
            results.append({
                "range": range_key, "readings": len(raw), "buckets": len(result["buckets"]),
                "bucket_seconds": result["bucket_seconds"], "aggregated": result["aggregated"],
                "readings_in_buckets": sum(bucket[4] for bucket in result["buckets"]),
                "payload_kib": round(len(body) / 1024, 1),
                "raw_kib": round(len(json.dumps(raw, separators=(",", ":")).encode()) / 1024, 1),
                "median_ms": round(statistics.median(times) * 1000, 1),
                "p95_ms": round(percentile(times, 0.95) * 1000, 1)})
    finally:
        if not arguments.keep_data:
            progress("cleaning up")
            _drop_table(resource_id)
            reset_test_database_and_index()
    return {"written": written, "write_seconds": round(write_seconds, 2), "calls": arguments.calls,
            "points": arguments.points, "ranges": results, "config": arguments.config}


def _drop_table(resource_id):
    import sqlalchemy as sa

    from ckanext.datastore.backend.postgres import get_write_engine, identifier

    with get_write_engine().begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {identifier(resource_id)} CASCADE"))


def print_report(results):
    print(f"pegel_series chart payload: one station, {results['written']:,} readings (1 a minute, {DAYS} days) "
          f"written in one batch in {results['write_seconds']:.2f} s; {results['calls']} anonymous GET calls "
          f"per range through CKAN's WSGI stack in-process (werkzeug test client), {results['config']}; "
          f"load average {results['load_average'][0]} at the start, {results['load_average'][1]} at the end "
          f"({os.cpu_count()} CPUs)")
    rows = [(r["range"], r["readings"], r["buckets"], r["bucket_seconds"], r["payload_kib"], r["raw_kib"],
             r["median_ms"], r["p95_ms"]) for r in results["ranges"]]
    print(format_table([("range", "<"), ("readings", ">,d"), ("buckets", ">d"), ("bucket s", ">d"),
                        ("payload KiB", ">.1f"), ("raw KiB", ">.1f"), ("median ms", ">.1f"),
                        ("p95 ms", ">.1f")], rows))
    wrong = [r["range"] for r in results["ranges"] if r["readings_in_buckets"] != r["readings"]]
    if wrong:
        print(f"INVALID: the buckets of {', '.join(wrong)} do not hold every reading of the range")


def main(argv=None):
    return run_main("pegel_chart_payload", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
