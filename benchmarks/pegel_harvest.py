"""Benchmark: harvest PEGELONLINE's complete station list (605 stations) with the PEGELONLINE harvester.

What is measured
----------------
Datasets per second of a harvest job of the ``pegelonline`` harvester over the real station list of
2014 (``stations_2014-05-01_full_real.json``, all 605 stations, see the fixtures' README), served by a
local HTTP server:

- first run: every station becomes a DCAT-AP.de dataset (``package_create`` with the full scheming
  validation, activity, Solr indexing) with its DataStore series table;
- unchanged re-runs (``--reruns``, median): the same list again, nothing to write;
- optionally (``--changed N``) a run in which N stations changed (their agency), the others not.

A run is one harvest job through ckanext-harvest's stages, in this process and without the Redis queues:
the gather stage, then every object through ``ckanext.harvest.queue.fetch_callback`` (what the fetch
consumer calls for each message of its queue), then ``harvest_jobs_run``; timed from the job's start to
its end, the HTTP request for the list included. That is what one fetch consumer does; the platform can
run several. (ckanext-harvest's test helper ``run_harvest_job`` also reads every new dataset back with
``package_show``, which no consumer does; it is not used.)

Targets (issue 5, item 7): at least 20 datasets/s on the first run and at least 100 datasets/s on an
unchanged re-run. The script prints PASS or MISS and exits 0 either way (2: it could not run).

How
---
CKAN is loaded in this process from the TEST configuration (``test.ini`` plus the ``CKAN_*`` environment
overrides), like ``catalog_pages.py`` (safety rules in ``_common.py``: only a stack whose database and
Solr core names contain ``test``; not while a pytest process uses the same stack; one benchmark per
database). Steps:

1. reset the test database and this site's Solr documents (``_common.reset_test_database_and_index``);
2. create a sysadmin, the municipality Landkreis Mayen-Koblenz and a harvest source owned by it whose
   configuration assigns every station to it (``{"owner": "landkreis-mayen-koblenz"}``);
3. run the jobs and check them: every station added (first run), none written (re-runs: "not modified"
   for all, no ``metadata_modified`` changed), the datasets searchable;
4. drop the DataStore tables this run created and reset the test database again (unless ``--keep-data``).

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/pegel_harvest.py --stations 100     # quick check
    .venv/bin/python benchmarks/pegel_harvest.py                    # all 605 stations, 3 re-runs
    .venv/bin/python benchmarks/pegel_harvest.py --changed 60 --json
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import http.server
import json
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (REPOSITORY_ROOT, add_test_stack_arguments, ckan_for_benchmark,  # noqa: E402
                     create_sysadmin, format_table, progress, reset_test_database_and_index,
                     run_main)

FIXTURES = REPOSITORY_ROOT.parent / "shared" / "fixtures" / "pegelonline"
STATION_LIST = "stations_2014-05-01_full_real.json"
OWNER = "landkreis-mayen-koblenz"
TARGET_FIRST = 20.0
TARGET_UNCHANGED = 100.0


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=None, help="harvest only the first N stations (default: all)")
    parser.add_argument("--reruns", type=int, default=3, help="unchanged re-runs (median reported)")
    parser.add_argument("--changed", type=int, default=0, help="one more run with N stations changed")
    parser.add_argument("--consumers", type=int, default=1,
                        help="fetch consumer processes for the first run (default 1; the others always use 1)")
    parser.add_argument("--fixtures", default=os.environ.get("PEGELONLINE_FIXTURES", str(FIXTURES)),
                        help=f"folder with {STATION_LIST}")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile the first run and print its N most expensive calls (to stderr)")
    parser.add_argument("--profile-file", metavar="PATH",
                        help="with --profile: also write the raw profile there (for pstats or snakeviz)")
    add_test_stack_arguments(parser, "leave the harvested datasets and tables")
    return parser.parse_args(argv)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(directory):
    """A static server for the station list (it ignores query strings, as the harvester allows)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class _Channel:
    """The part of a queue channel that ``fetch_callback`` uses: it acknowledges each message."""

    def __init__(self):
        self.acknowledged = 0

    def basic_ack(self, delivery_tag):
        self.acknowledged += 1


def run_as_consumers(job, harvester, consumers=1):
    """The job through the stages as the gather and fetch consumers run them, without the Redis queues."""
    import ckan.plugins.toolkit as tk
    from ckanext.harvest import queue

    job.status = "Running"  # what harvest_send_job_to_gather_queue does
    job.save()
    object_ids = queue.gather_stage(harvester, job)
    object_ids = object_ids if isinstance(object_ids, list) else []
    if consumers > 1:
        _fetch_in_processes(object_ids, consumers)
    else:
        _fetch(object_ids)
    tk.get_action("harvest_jobs_run")({"ignore_auth": True}, {})


def _fetch(object_ids):
    from ckanext.harvest import queue

    channel = _Channel()
    for object_id in object_ids:
        queue.fetch_callback(channel, argparse.Namespace(delivery_tag=object_id), None,
                             json.dumps({"harvest_object_id": object_id}))


def _fetch_in_processes(object_ids, consumers):
    """Several fetch consumers, as ``ckan harvester fetch-consumer`` processes sharing one queue: forked
    children taking object ids from a shared queue (the Redis queue's part)."""
    import multiprocessing

    import ckan.plugins.toolkit as tk
    from ckan import model

    # The harvester acts as the site user; a running site has it, here the consumers would race to create it.
    tk.get_action("get_site_user")({"ignore_auth": True}, {})
    model.Session.remove()  # no connection of this process may be in use in a child
    work = multiprocessing.get_context("fork").Queue()
    for object_id in object_ids:
        work.put(object_id)
    for _ in range(consumers):
        work.put(None)
    children = [multiprocessing.get_context("fork").Process(target=_consumer, args=(work,))
                for _ in range(consumers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    if any(child.exitcode for child in children):
        raise RuntimeError("a fetch consumer process failed (see above)")


def _consumer(work):
    import traceback

    from ckan import model
    from ckanext.datastore.backend import postgres as datastore

    try:
        # Fresh connection pools: the parent's connections stay the parent's.
        model.meta.engine.dispose(close=False)
        for engine in datastore._engines.values():
            engine.dispose(close=False)
        for object_id in iter(work.get, None):
            _fetch([object_id])
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)  # not the parent's exit handlers (benchmark lock, cleanup)


def _cpu_seconds():
    """CPU time of this process and of its finished children (the fetch consumer processes)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_job(source_id, profile=0, profile_file=None, consumers=1):
    """One harvest job, timed; returns (seconds, job dict, error messages)."""
    import ckan.plugins as plugins
    import ckan.plugins.toolkit as tk
    from ckanext.harvest.model import HarvestJob

    context = {"ignore_auth": True}
    job = tk.get_action("harvest_job_create")(dict(context), {"source_id": source_id, "run": False})
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    if profiler:
        profiler.enable()
    run_as_consumers(HarvestJob.get(job["id"]), plugins.get_plugin("pegelonline_harvester"), consumers)
    seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
        if profile_file:
            profiler.dump_stats(profile_file)
    job = tk.get_action("harvest_job_show")(dict(context), {"id": job["id"]})
    report = tk.get_action("harvest_job_report")(dict(context), {"id": job["id"]})
    errors = [error["message"] for error in report["gather_errors"]]
    errors += [error["message"] for errored in report["object_errors"].values() for error in errored["errors"]]
    return seconds, cpu_seconds, job, errors


def modified_dates():
    from ckan import model

    return dict(model.Session.query(model.Package.id, model.Package.metadata_modified)
                .filter(model.Package.type == "dataset").all())


def series_tables():
    from ckan import model

    resource = model.resource_table
    ids = [row[0] for row in model.Session.execute(resource.select().with_only_columns(resource.c.id, resource.c.extras))
           if isinstance(row[1], dict) and row[1].get("pegel_resource") == "series"]
    return ids


def drop_tables(resource_ids):
    import sqlalchemy as sa

    from ckanext.datastore.backend.postgres import get_write_engine, identifier

    with get_write_engine().begin() as connection:
        for resource_id in resource_ids:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {identifier(resource_id)} CASCADE"))


def run_benchmark(arguments):
    stations = json.loads((Path(arguments.fixtures) / STATION_LIST).read_text(encoding="utf-8"))
    if arguments.stations:
        stations = stations[:arguments.stations]
    with ckan_for_benchmark(arguments) as (_app, _stack, stop_if_pytest_runs):
        load_before = os.getloadavg()[0]
        results = measure(arguments, stations, stop_if_pytest_runs)
        results["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        return results


def measure(arguments, stations, stop_if_pytest_runs):
    import ckan.plugins.toolkit as tk
    from ckanext.tenant import tenants

    progress("resetting the test database and Solr documents")
    reset_test_database_and_index()
    admin = create_sysadmin("pegel-benchmark")
    [tenant] = [t for t in tenants.load(REPOSITORY_ROOT / "config" / "tenants.yaml") if t["name"] == OWNER]
    owner = tk.get_action("organization_create")({"user": admin}, dict(tenant))
    feed_dir = Path(tempfile.mkdtemp(prefix="pegel-benchmark-"))
    (feed_dir / "stations.json").write_text(json.dumps(stations), encoding="utf-8")
    server, url = serve(feed_dir)
    source = tk.get_action("harvest_source_create")({"user": admin}, {
        "name": "pegelonline-benchmark", "title": "PEGELONLINE", "url": url, "source_type": "pegelonline",
        "owner_org": owner["id"], "config": json.dumps({"owner": OWNER})})
    runs = []
    try:
        progress(f"first run: {len(stations)} stations")
        runs.append(_run("first", *run_job(source["id"], arguments.profile, arguments.profile_file,
                                           arguments.consumers)))
        stop_if_pytest_runs()
        expected = runs[0]["stats"].get("added", 0)
        searchable = tk.get_action("package_search")({"ignore_auth": True}, {"q": "*:*", "rows": 0})["count"]
        before = modified_dates()
        for number in range(arguments.reruns):
            progress(f"unchanged re-run {number + 1} of {arguments.reruns}")
            runs.append(_run("unchanged", *run_job(source["id"])))
            stop_if_pytest_runs()
        rewritten = sum(1 for key, value in modified_dates().items() if before.get(key) != value)
        if arguments.changed:
            for station in stations[:arguments.changed]:
                station["agency"] = (station.get("agency") or "") + " (neu)"
            (feed_dir / "stations.json").write_text(json.dumps(stations), encoding="utf-8")
            progress(f"run with {arguments.changed} changed stations")
            runs.append(_run("changed", *run_job(source["id"])))
        tables = series_tables()
    finally:
        server.shutdown()
        server.server_close()
    if not arguments.keep_data:
        progress("cleaning up")
        drop_tables(tables)
        reset_test_database_and_index()
    return {"stations": len(stations), "expected_datasets": expected, "searchable": searchable,
            "rewritten_by_reruns": rewritten, "series_tables": len(tables), "runs": runs,
            "consumers": arguments.consumers,
            "config": arguments.config}


def _run(kind, seconds, cpu_seconds, job, errors):
    stats = job["stats"]
    handled = sum(stats.get(key, 0) for key in ("added", "updated", "not modified", "deleted", "errored"))
    return {"kind": kind, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "stations": handled,
            "per_second": round(handled / seconds, 1) if seconds else None, "stats": stats,
            "errors": errors[:5], "error_count": len(errors)}


def _consumers(results):
    if results.get("consumers", 1) > 1:
        return f"first run with {results['consumers']} fetch consumer processes, the other runs with one"
    return "one fetch consumer in-process"


def print_report(results):
    runs = results["runs"]
    print(f"PEGELONLINE harvest benchmark: {results['stations']} stations ({STATION_LIST}), "
          f"one job at a time, {_consumers(results)}, {results['config']}; load average "
          f"{results['load_average'][0]} at the start, {results['load_average'][1]} at the end "
          f"({os.cpu_count()} CPUs)")
    rows = [(run["kind"], run["seconds"], run["cpu_seconds"], run["per_second"], run["stats"].get("added", 0),
             run["stats"].get("updated", 0), run["stats"].get("not modified", 0), run["error_count"])
            for run in runs]
    print(format_table([("run", "<"), ("seconds", ">.2f"), ("cpu s", ">.2f"), ("datasets/s", ">.1f"), ("added", ">d"),
                        ("updated", ">d"), ("not modified", ">d"), ("errors", ">d")], rows))
    first = runs[0]
    unchanged = [run for run in runs if run["kind"] == "unchanged"]
    median = statistics.median(run["per_second"] for run in unchanged) if unchanged else None
    print(f"\ndatasets searchable after the first run: {results['searchable']} of "
          f"{results['expected_datasets']}; datasets rewritten by the unchanged re-runs: "
          f"{results['rewritten_by_reruns']}; series tables: {results['series_tables']}\n"
          "(cpu s: CPU time of this process and its fetch consumer processes, the harvester's own work; "
          "PostgreSQL's and Solr's are not in it)")
    for run in runs:
        for error in run["errors"]:
            print(f"  {run['kind']}: {error}")
    valid = (first["error_count"] == 0 and results["searchable"] == results["expected_datasets"]
             and all(run["stats"].get("not modified") == results["expected_datasets"] for run in unchanged)
             and results["rewritten_by_reruns"] == 0)
    print("\nTargets")
    print(f"  first run      >= {TARGET_FIRST:g} datasets/s   "
          f"{'PASS' if first['per_second'] >= TARGET_FIRST else 'MISS'}  {first['per_second']:.1f} datasets/s")
    if median is not None:
        print(f"  unchanged run  >= {TARGET_UNCHANGED:g} datasets/s  "
              f"{'PASS' if median >= TARGET_UNCHANGED else 'MISS'}  {median:.1f} datasets/s (median)")
    if not valid:
        print("INVALID: the runs did not do what they should (see above); the figures do not count")


def main(argv=None):
    return run_main("pegel_harvest", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
