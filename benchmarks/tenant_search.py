"""Benchmark: dataset search (package_search) with 10,000 datasets over the six municipalities.

What is measured
----------------
Latency percentiles (p50, p95, p99) and throughput of dataset searches over HTTP, the way citizens (the
/dataset page) and API clients hit them, at 1, 10 and 20 concurrent clients, each without and with a
tenant filter (one municipality). The query mix is described in ``_search_load.py``: free text in
German with stemming, the /dataset page's facets, paging, facet filters, map (bbox) searches, anonymous
users and tenant editors. Each cell runs ``--warmup`` seconds unmeasured, then ``--seconds`` measured;
only requests that start within the measured window count. Clients are closed-loop threads without think
time (like ``ab -c N``): N clients keep N requests in flight, which is far more load than N people.

``package_search`` through the API (``/api/3/action/package_search``) is the target; the /dataset HTML
page, which calls ``package_search`` and renders the result, is measured the same way (``--no-html``
leaves it out).

Target (issue 4, item 6): p95 of package_search at most 150 ms at 20 clients, with and without the
tenant filter. PASS or MISS is printed; the exit status is 0 either way (2: could not run).

How
---
1. CKAN is loaded in this process from the test configuration (``test.ini`` and the ``CKAN_*``
   environment overrides). The safety rules of ``_common.py`` apply: only a test stack, not while a
   pytest process uses the same database or Solr site, not while another benchmark uses the database.
2. Data: with ``--reuse`` and a database that holds exactly the data set of ``--datasets`` (recorded in
   ``system_info``, checked against the database and Solr), nothing is seeded. Otherwise the database and
   this site's Solr documents are reset, the municipalities are created from ``config/tenants.yaml`` with
   ckanext-tenant's sync logic, and the datasets are created through ``package_create`` in
   ``--seed-processes`` processes with one Solr commit at the end (``_search_corpus.py``). The seeding rate
   is printed. The data stays for the next ``--reuse`` run (``--drop-data`` empties the database after).
3. Diagnosis: ``--profile-requests`` requests of the mix go through CKAN in this process (Flask test
   client), one at a time, with the time spent in Solr (and Solr's own QTime), the SQL statements and
   their time counted, and a cProfile of CKAN's Python code.
4. Load: CKAN runs under gunicorn with the production image's settings (``docker/ckan/gunicorn.conf.py``,
   ``docker/ckan/wsgi.py``), ``--workers`` sync workers; worker recycling (``max_requests``) is off unless
   ``--max-requests`` is given, so that no worker restarts during a cell. After an untimed check of the
   responses (tenant isolation, private datasets) and a warm-up, the cells run in order. The machine's load
   average and the CPU used by the server, the clients, Solr and PostgreSQL are recorded per cell.

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/tenant_search.py --datasets 300 --seconds 5   # quick check
    .venv/bin/python benchmarks/tenant_search.py --reuse                      # 10,000 datasets

See benchmarks/README.md for the options and how to read the figures.
"""
import argparse
import os
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import _search_corpus as corpus
from _common import (DEFAULT_CONFIG, ckan_for_benchmark, conflicting_pytest_processes, create_sysadmin,
                     format_table, progress, reset_test_database_and_index, run_main)
from _gunicorn import GunicornServer
from _search_load import MixContext, check_responses, run_cell
from _search_profile import profile_in_process

TARGET_P95_MS = 150
TARGET_CLIENTS = 20


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description="package_search latency with datasets of six municipalities.")
    parser.add_argument("--datasets", type=int, default=10000, help="datasets in the data set (default: 10000)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the data when the database already holds this data set (else seed)")
    parser.add_argument("--clients", default="1,10,20", help="concurrent clients per cell (default: 1,10,20)")
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per cell (default: 30)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds per cell (default: 5)")
    parser.add_argument("--workers", type=int, default=3,
                        help="gunicorn sync workers (default: 3, see the README for why)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default: 1, sync workers)")
    parser.add_argument("--max-requests", type=int, default=0,
                        help="recycle a worker after this many requests (production: 1000; default: 0, off)")
    parser.add_argument("--seed-processes", type=int, default=os.cpu_count() or 1,
                        help="processes creating datasets in parallel (default: one per core)")
    parser.add_argument("--no-html", dest="html", action="store_false", help="leave out the /dataset page")
    parser.add_argument("--profile-requests", type=int, default=100,
                        help="requests profiled in-process for the diagnosis (default: 100; 0: none)")
    parser.add_argument("--drop-data", action="store_true", help="empty the test database afterwards")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG),
                        help="CKAN test configuration (default: test.ini); database and Solr core names "
                             "must contain 'test'")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config option, in this process and the server (repeatable)")
    parser.add_argument("--force", action="store_true",
                        help="run even though a pytest process seems to use the same test stack")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--verbose", action="store_true", help="keep CKAN's INFO logging")
    arguments = parser.parse_args(argv)
    try:
        arguments.clients = sorted({int(part) for part in arguments.clients.split(",")})
    except ValueError:
        parser.error("--clients expects numbers separated by commas, e.g. 1,10,20")
    if arguments.datasets < 1 or min(arguments.clients) < 1 or arguments.workers < 1 or arguments.seconds <= 0:
        parser.error("--datasets, --clients, --workers and --seconds must be positive")
    for override in arguments.overrides:
        if "=" not in override:
            parser.error(f"--set expects KEY=VALUE, got {override!r}")
    arguments.config = str(Path(arguments.config).resolve())
    return arguments


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

def prepare_data(arguments, stop_if_pytest_runs):
    """Reuse or seed the data set; returns (seeding result or None, tenants, editor tokens)."""
    from ckan import model

    if arguments.reuse:
        matches, why = corpus.seeded_data_matches(arguments.datasets)
        progress("Reusing the data set in the database" if matches else f"Cannot reuse the data: {why}")
    else:
        matches = False
    seed = None
    if not matches:
        stop_if_pytest_runs()
        progress("Resetting the test database and this site's Solr documents ...")
        reset_test_database_and_index()
        create_sysadmin(corpus.BENCHMARK_USER)
        tenants = corpus.sync_tenants(corpus.BENCHMARK_USER)
        progress(f"Creating {arguments.datasets} datasets in {arguments.seed_processes} processes ...")
        seed = corpus.seed(arguments.config, arguments.overrides, arguments.force, arguments.datasets,
                           tenants, corpus.BENCHMARK_USER, arguments.seed_processes)
        progress(f"  done in {seed.seconds:.0f} s ({seed.datasets / seed.seconds:.1f} datasets/s)")
    model.Session.remove()
    tenants = corpus.sync_tenants(corpus.BENCHMARK_USER)
    tokens = corpus.ensure_editors(tenants)
    return seed, tenants, tokens


def mix_context(tenants, tokens):
    """The facets the /dataset page asks for (h.facets() and the IFacets plugins, as
    ckan/views/dataset.py does) and what the query generator needs about the tenants."""
    import ckan.plugins as plugins
    import ckan.plugins.toolkit as tk
    from collections import OrderedDict

    facets = OrderedDict((name, name) for name in tk.h.facets())
    for plugin in plugins.PluginImplementations(plugins.IFacets):
        facets = plugin.dataset_facets(facets, "dataset")
    return MixContext(
        facet_fields=list(facets),
        include_private=tk.asbool(tk.config.get("ckan.search.default_include_private")),
        tenants={name: {"id": org["id"], "bbox": tuple(float(part) for part in org["bbox"].split(","))}
                 for name, org in tenants.items()},
        tokens=tokens)


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------

def measure(arguments, context, stop_if_pytest_runs, log_dir, database_name):
    server = GunicornServer(arguments.config, arguments.overrides, arguments.workers, arguments.threads,
                            arguments.max_requests, log_dir)
    progress(f"Starting gunicorn with {arguments.workers} workers on {server.base_url} ...")
    server.start()
    cells, checked = [], None
    try:
        checked = check_responses(server, context, samples=60, seed=7)
        if checked[1]:
            progress("  problems in the responses: " + "; ".join(checked[1][:5]))
        targets = ["api"] + (["html"] if arguments.html else [])
        for target in targets:  # untimed: every worker serves the mix once before the cells
            run_cell(server, target, 2 * arguments.workers, False, context, 0, 8, 99, database_name)
        for target in targets:
            for clients in arguments.clients:
                for tenant_filter in (False, True):
                    stop_if_pytest_runs()
                    cell = run_cell(server, target, clients, tenant_filter, context, arguments.warmup,
                                    arguments.seconds, len(cells) + 1, database_name)
                    summary = cell.summary()
                    cells.append(dict(summary, error_examples=cell.error_examples))
                    progress(f"  {target:4} {clients:3} clients, filter {summary['filter']:6}: "
                             f"p50 {summary['p50_ms'] or 0:6.0f} ms, p95 {summary['p95_ms'] or 0:6.0f} ms, "
                             f"{summary['requests_per_second'] or 0:5.1f} req/s, load "
                             f"{summary['load_before']:.2f}->{summary['load_after']:.2f}")
    finally:
        server.stop()
    return cells, checked


def evaluate_targets(cells):
    targets = []
    for tenant_filter in ("none", "tenant"):
        cell = next((c for c in cells if c["target"] == "api" and c["clients"] == TARGET_CLIENTS
                     and c["filter"] == tenant_filter), None)
        target = {"target": f"API p95 <= {TARGET_P95_MS} ms at {TARGET_CLIENTS} clients, filter {tenant_filter}",
                  "value": cell["p95_ms"] if cell else None}
        if cell is None:
            target.update(result="MISS", reason=f"no cell with {TARGET_CLIENTS} clients was measured")
        elif cell["errors"]:
            target.update(result="INVALID", reason=f"{cell['errors']} failed requests")
        else:
            target["result"] = "PASS" if cell["p95_ms"] <= TARGET_P95_MS else "MISS"
        targets.append(target)
    return targets


def run_benchmark(arguments):
    log_dir = Path(tempfile.mkdtemp(prefix="tenant_search-"))
    with ckan_for_benchmark(arguments) as (app, stack, stop_if_pytest_runs):
        with app._wsgi_app.test_request_context():
            seed, tenants, tokens = prepare_data(arguments, stop_if_pytest_runs)
            context = mix_context(tenants, tokens)
            private = corpus.count_private()
        profile = None
        if arguments.profile_requests:
            progress(f"Profiling {arguments.profile_requests} requests in-process ...")
            profile = profile_in_process(app, context, arguments.profile_requests, seed=3)
        cells, checked = measure(arguments, context, stop_if_pytest_runs, log_dir, stack.database_name)
        disturbed = bool(conflicting_pytest_processes(stack))
        if arguments.drop_data and not disturbed:
            progress("Emptying the test database and this site's Solr documents (--drop-data) ...")
            reset_test_database_and_index()
    results = {
        "config": arguments.config, "stack": stack.describe(), "overrides": arguments.overrides,
        "datasets": arguments.datasets, "private": private, "tenants": len(tenants),
        "seeding": seed.as_dict() if seed else None,
        "server": {"gunicorn": version("gunicorn"), "workers": arguments.workers, "threads": arguments.threads,
                   "max_requests": arguments.max_requests, "cpus": os.cpu_count()},
        "seconds": arguments.seconds, "warmup": arguments.warmup,
        "facet_fields": context.facet_fields,
        "checked_responses": checked[0] if checked else 0, "problems": checked[1] if checked else [],
        "cells": cells, "targets": evaluate_targets(cells), "profile": profile,
        "disturbed_by_pytest": disturbed,
    }
    if any(cell["errors"] for cell in cells) or results["problems"]:
        results["server_logs"] = str(log_dir)  # kept for a look
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return results


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

def capacity_notes(results):
    """What the CPU cost per request allows on this machine (Little's law: with N closed-loop clients,
    mean latency = N / throughput, and throughput is at most CPUs / CPU seconds per request)."""
    notes, cores = [], results["server"]["cpus"]
    for cell in results["cells"]:
        cpu = cell["cpu_ms_per_request"]
        if cell["target"] != "api" or cell["clients"] != max(c["clients"] for c in results["cells"]) or not cpu:
            continue
        total = sum(value for value in cpu.values() if value is not None)
        capacity = cores * 1000 / total
        notes.append(
            f"api, {cell['clients']} clients, filter {cell['filter']}: {total:.1f} ms CPU per request "
            f"(CKAN {cpu.get('ckan', 0):.1f}, Solr {cpu.get('solr', 0):.1f} [shared, includes other users], "
            f"PostgreSQL {cpu.get('postgresql', 0):.1f}, clients {cpu.get('client', 0):.1f}): {cores} CPUs "
            f"serve at most {capacity:.0f} req/s, so {cell['clients']} clients wait at least "
            f"{cell['clients'] * 1000 / capacity:.0f} ms on average even on an idle machine; it was "
            f"{cell['machine_busy']:.0%} busy, {cell['others_busy']:.0%} with other processes")
    return notes


def print_report(results):
    server = results["server"]
    print(f"package_search benchmark: {results['datasets']} datasets over {results['tenants']} municipalities "
          f"({results['private']} private); {results['stack']}"
          + (f"; overrides: {'; '.join(results['overrides'])}" if results["overrides"] else ""))
    seeding = results["seeding"]
    if seeding:
        print(f"Seeding: {seeding['datasets']} datasets in {seeding['seconds']:.0f} s "
              f"({seeding['datasets_per_second']} datasets/s, package_create in {seeding['processes']} "
              "processes, one Solr commit)")
    else:
        print("Seeding: reused the data set in the database (--reuse)")
    print(f"Server: gunicorn {server['gunicorn']}, {server['workers']} sync workers x {server['threads']} "
          f"thread(s), max_requests {server['max_requests'] or 'off'}, on {server['cpus']} CPUs shared with "
          "Solr, PostgreSQL and the clients")
    print(f"Clients: closed loop, no think time; {results['seconds']:.0f} s measured per cell after "
          f"{results['warmup']:.0f} s warm-up; page facets: {', '.join(results['facet_fields'])}")
    print(f"Checked {results['checked_responses']} responses for tenant isolation and private datasets: "
          + ("ok" if not results["problems"] else f"{len(results['problems'])} problems"))
    print()
    rows = [(cell["target"], cell["clients"], cell["filter"], cell["requests"], cell["requests_per_second"],
             cell["p50_ms"], cell["p95_ms"], cell["p99_ms"], cell["errors"], cell["kib_per_response"],
             f"{cell['load_before']:.1f}->{cell['load_after']:.1f}", cell["machine_busy"], cell["others_busy"],
             *(cell["cpu_ms_per_request"].get(name) for name in ("ckan", "solr", "postgresql", "client")))
            for cell in results["cells"]]
    print(format_table([("target", "<"), ("clients", "d"), ("filter", "<"), ("requests", "d"), ("req/s", ".1f"),
                        ("p50 ms", ".0f"), ("p95 ms", ".0f"), ("p99 ms", ".0f"), ("errors", "d"),
                        ("KiB/resp", ".1f"), ("load 1m", ">"), ("busy", ".0%"), ("others", ".0%"),
                        ("CPU ms/req: ckan", ".1f"), ("solr", ".1f"), ("pg", ".1f"), ("client", ".1f")], rows))
    print()
    print("Targets")
    for target in results["targets"]:
        value = "n/a" if target["value"] is None else f"{target['value']:.0f} ms"
        reason = f" ({target['reason']})" if target.get("reason") else ""
        print(f"  {target['target']:<48} {target['result']:7} {value}{reason}")
    profile = results["profile"]
    if profile:
        print()
        print("Where the time of one request goes (in-process, one request at a time, medians per kind)")
        rows = [(kind, row["requests"], row["total_ms"], row["solr_ms"], row["solr_qtime_ms"], row["sql_statements"],
                 row["sql_ms"], row["rest_ms"], row["kib"], row["zero_hits"]) for kind, row in profile["by_kind"].items()]
        print(format_table([("kind", "<"), ("requests", "d"), ("total ms", ".1f"), ("solr ms", ".1f"),
                            ("QTime ms", ".1f"), ("SQL", ".0f"), ("SQL ms", ".1f"), ("CKAN ms", ".1f"),
                            ("KiB", ".1f"), ("0 hits", "d")], rows))
        print("Cumulative time per request by part (cProfile, which slows Python code down: compare the parts)")
        print(format_table([("ms/request", ".1f"), ("part", "<")],
                           [(row["ms_per_request"], row["function"]) for row in profile["key_functions"]]))
        print("Most own time in CKAN's process (cProfile over the profiled requests)")
        print(format_table([("share", ".1%"), ("seconds", ".3f"), ("calls", "d"), ("function", "<")],
                           [(row["share"], row["own_seconds"], row["calls"], row["function"])
                            for row in profile["top_functions"]]))
    notes = capacity_notes(results) + list(results["problems"][:10])
    for cell in results["cells"]:
        notes.extend(f"{cell['target']} {cell['clients']} clients {cell['filter']}: {example}"
                     for example in cell["error_examples"])
    if results["disturbed_by_pytest"]:
        notes.append("a pytest process uses the same test stack now: the figures may be disturbed")
    if results.get("server_logs"):
        notes.append(f"server logs kept in {results['server_logs']}")
    if notes:
        print()
        print("Observations")
        for note in notes:
            print(f"  - {note}")


def main(argv=None):
    return run_main("tenant_search", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
