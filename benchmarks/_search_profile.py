"""Diagnosis for the search benchmark: where the time of one package_search request goes, measured in
the benchmark's own process (Flask test client, one request at a time): the Solr call and Solr's QTime,
the SQL statements, CKAN's Python, and a cProfile of the same requests."""
from __future__ import annotations

import cProfile
import json
import os
import pstats
import random
import statistics
import time
from pathlib import Path

from _common import CannotRun, SqlStatementCounter
from _search_load import make_request


def profile_in_process(app, context, count, seed):
    """Send `count` requests of the API mix through CKAN in this process, one at a time, and split their
    time into Solr (the HTTP call, and Solr's QTime), SQL and the rest (CKAN's Python code)."""
    import pysolr
    from ckan.tests.helpers import CKANTestApp

    client = CKANTestApp(app).test_client()
    sql = SqlStatementCounter()
    solr_calls = []
    original_search = pysolr.Solr.search

    def timed_search(self, *args, **kwargs):  # the real call, timed
        started = time.perf_counter()
        results = original_search(self, *args, **kwargs)
        solr_calls.append((time.perf_counter() - started, results.qtime or 0))
        return results

    requests = [make_request(random.Random(seed + number), context, number % 2 == 1, "api")
                for number in range(count)]
    rows = []
    pysolr.Solr.search = timed_search
    try:
        for request in requests:  # timed, without the profiler's overhead
            solr_calls.clear()
            statements, sql_seconds = sql.count, sql.seconds
            started = time.perf_counter()
            response = client.get(request.path, headers=request.headers)
            body = response.get_data()
            total = time.perf_counter() - started
            if response.status_code != 200:
                raise CannotRun(f"{request.path} answered {response.status_code}: {body[:300]!r}")
            rows.append({"kind": request.kind, "total": total, "solr": sum(call[0] for call in solr_calls),
                         "qtime": sum(call[1] for call in solr_calls) / 1000, "solr_calls": len(solr_calls),
                         "sql": sql.count - statements, "sql_seconds": sql.seconds - sql_seconds,
                         "bytes": len(body), "hits": json.loads(body)["result"]["count"]})
    finally:
        pysolr.Solr.search = original_search
    profiler = cProfile.Profile()
    for request in requests:  # the same requests again, under cProfile
        profiler.enable()
        client.get(request.path, headers=request.headers).get_data()
        profiler.disable()
    return {"by_kind": _profile_summary(rows), "top_functions": _top_functions(profiler),
            "key_functions": _key_functions(profiler, len(requests))}


def _profile_summary(rows):
    summary = {}
    for kind in sorted({row["kind"] for row in rows}):
        group = [row for row in rows if row["kind"] == kind]

        def median(key):
            return statistics.median(row[key] for row in group)
        summary[kind] = {
            "requests": len(group), "total_ms": median("total") * 1000, "solr_ms": median("solr") * 1000,
            "solr_qtime_ms": median("qtime") * 1000, "solr_calls": median("solr_calls"),
            "sql_statements": median("sql"), "sql_ms": median("sql_seconds") * 1000,
            "rest_ms": statistics.median(row["total"] - row["solr"] - row["sql_seconds"] for row in group) * 1000,
            "kib": median("bytes") / 1024, "zero_hits": sum(1 for row in group if not row["hits"]),
        }
    return summary


# Where a request's time goes, by function (cumulative time, nested calls included).
KEY_FUNCTIONS = [
    ("ckan/views/api.py", "action", "API view (everything after routing)"),
    ("ckan/logic/action/get.py", "package_search", "  package_search action"),
    ("site-packages/pysolr.py", "search", "    Solr query (HTTP call and decoding)"),
    ("ckan/lib/search/query.py", "run", "    CKAN's query building and result handling"),
    ("json/__init__.py", "loads", "    parsing the datasets' validated_data_dict (and other JSON)"),
    ("ckan/views/api.py", "_finish", "  writing the JSON response"),
    ("ckan/views/__init__.py", "identify_user", "identifying the user (cookie or API token)"),
]


def _key_functions(profiler, requests):
    """Cumulative seconds per request in KEY_FUNCTIONS, over all profiled requests."""
    stats = pstats.Stats(profiler).stats
    rows = []
    for suffix, name, label in KEY_FUNCTIONS:
        seconds = sum(entry[3] for (filename, _, function), entry in stats.items()
                      if function == name and os.path.normpath(filename).endswith(suffix))
        rows.append({"function": label, "ms_per_request": seconds * 1000 / max(1, requests)})
    return rows


def _top_functions(profiler, count=12):
    """The functions with the most own time (tottime) over all profiled requests."""
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values()) or 1
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:count]
    return [{"function": name if filename == "~" else f"{Path(filename).parent.name}/{Path(filename).name}:{line} {name}",
             "own_seconds": entry[2], "share": entry[2] / total, "calls": entry[1]}
            for (filename, line, name), entry in rows]
