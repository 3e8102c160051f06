"""The load side of the search benchmark: the query mix and the concurrent clients.

Query mix (every request is drawn at random, so Solr's result cache sees a realistic spread of queries):

- ``seite`` (55 %): what the /dataset page sends to ``package_search``: the page's facet fields, 20 rows,
  ``include_private`` as the page sets it, free text (German words, inflected and with umlauts spelled
  out, one or two words) or none, page 1 mostly, sometimes a later page, sometimes a facet filter (format,
  keyword, licence) or another sort order;
- ``karte`` (10 %): the same with a map search (``ext_bbox``, ckanext-spatial's solr-bbox backend);
- ``api`` (35 %): an API client: free text, 10 or 50 rows, no facets, often sorted by modification date.

One request in ten comes from a tenant's editor (API token; ``include_private``: the editor also sees the
tenant's private datasets). With the tenant filter, every request is restricted to one municipality the
way the page's "Kommune" facet does it (``organization:"<name>"``; API clients use
``owner_org:"<id>"``), an editor always to their own.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from _common import percentile
from _gunicorn import database_backends, machine_busy_seconds, solr_root, tree_cpu_seconds

# Search strings: words of the data set in several inflections and spellings, place names, two-word
# queries and a few words that find nothing (a search engine gets those too).
SEARCH_WORDS = [
    "Pegelstand", "Pegelstände", "Pegelstaende", "Hochwasser", "Gewässer", "Niederschlag", "Wetter",
    "Luftqualität", "Luftqualitaet", "Feinstaub", "Lärm", "Laerm", "Haltestelle", "Haltestellen", "Bus",
    "Fahrplan", "Radverkehr", "Fahrrad", "Radwege", "Parkhaus", "Parkhäuser", "Parken", "Ladesäule",
    "Ladesäulen", "Elektromobilität", "Baustellen", "Straßensperrung", "Strassen", "Unfälle", "Unfall",
    "Bevölkerung", "Einwohner", "Geburten", "Haushalt", "Haushaltsplan", "Jahresabschluss", "Wahlergebnisse",
    "Kommunalwahl", "Stadtrat", "Gewerbe", "Tourismus", "Übernachtungen", "Wanderwege", "Wandern", "Schule",
    "Schulen", "Kita", "Kindertagesstätte", "Sport", "Freibad", "Spielplatz", "Spielplätze", "Museum",
    "Bibliothek", "Veranstaltungen", "Bäume", "Baum", "Baumkataster", "Parks", "Friedhof", "Trinkwasser",
    "Abfall", "Müllabfuhr", "Abfuhrtermine", "Wertstoffhof", "Glascontainer", "Photovoltaik", "Solar",
    "Energieverbrauch", "Bebauungsplan", "Bebauungspläne", "Denkmal", "Kulturdenkmäler", "Feuerwehr",
    "Toiletten", "barrierefrei", "WLAN", "Kaiserslautern", "Kusel", "Mayen", "Andernach", "Bitburg", "Prüm",
    "Linz", "Wendel", "Tholey", "Innenstadt", "Parken Innenstadt", "Schulen Kusel", "Pegel Mayen",
    "Radwege Bitburg", "Haushalt 2024", "Flughafen", "Straßenbahn", "Quantencomputer",
]
FORMATS = ["CSV", "JSON", "GeoJSON", "PDF", "XLSX", "ZIP", "API"]
KEYWORDS = ["Hochwasser", "ÖPNV", "Radverkehr", "Haushalt", "Tourismus", "Bildung", "Abfall", "Stadtgrün",
            "Klimaschutz", "Freizeit", "Elektromobilität", "Bevölkerung"]
LICENCE_IDS = ["http://dcat-ap.de/def/licenses/dl-by-de/2.0", "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"]
SORTS = ["metadata_modified desc", "title_string asc"]
REGION = (6.1, 49.35, 7.9, 50.6)  # the six municipalities, lon/lat
EDITOR_SHARE = 0.1


@dataclass
class MixContext:
    """What the query generator needs to know about the installation."""
    facet_fields: list          # the /dataset page's facet fields, in its order
    include_private: bool       # ckan.search.default_include_private, as the page passes it
    tenants: dict               # name -> {"id": ..., "bbox": (minx, miny, maxx, maxy)}
    tokens: dict                # tenant name -> an editor's API token


@dataclass
class Request:
    kind: str
    path: str
    headers: dict
    tenant: str | None = None   # the municipality the request is restricted to
    editor: str | None = None   # the tenant whose editor sends it


def _words(rng):
    return rng.choice(SEARCH_WORDS)


def _page(rng):
    roll = rng.random()
    return 1 if roll < 0.75 else rng.randint(2, 5) if roll < 0.9 else rng.randint(6, 25)


def _bbox(rng, within):
    minx, miny, maxx, maxy = within
    width, height = (maxx - minx) * rng.uniform(0.2, 0.6), (maxy - miny) * rng.uniform(0.2, 0.6)
    x, y = rng.uniform(minx, maxx - width), rng.uniform(miny, maxy - height)
    return f"{x:.3f},{y:.3f},{x + width:.3f},{y + height:.3f}"


def make_request(rng, context, tenant_filter, target):
    """One request of the mix. target "api": GET /api/3/action/package_search; "html": GET /dataset/."""
    roll = rng.random()
    kind = "seite" if roll < 0.55 else "karte" if roll < 0.65 else "api"
    editor = rng.choice(list(context.tokens)) if rng.random() < EDITOR_SHARE else None
    tenant = (editor or rng.choice(list(context.tenants))) if tenant_filter else None
    headers = {"Authorization": context.tokens[editor]} if editor else {}
    if target == "html":
        kind = "karte" if kind == "karte" else "seite"  # a browser only ever asks for the page
        return Request(kind, "/dataset/?" + _page_params(rng, context, tenant, kind, html=True), headers,
                       tenant, editor)
    if kind == "api":
        params = {"q": _words(rng), "rows": rng.choice([10, 10, 50])}
        if rng.random() < 0.5:
            params["sort"] = "metadata_modified desc"
        if tenant:
            params["fq"] = f'owner_org:"{context.tenants[tenant]["id"]}"'
        if editor:
            params["include_private"] = "true"
    else:
        return Request(kind, "/api/3/action/package_search?" + _page_params(rng, context, tenant, kind,
                                                                              html=False, editor=editor),
                       headers, tenant, editor)
    return Request(kind, "/api/3/action/package_search?" + urllib.parse.urlencode(params), headers, tenant,
                   editor)


def _page_params(rng, context, tenant, kind, html, editor=None):
    """The /dataset page's parameters, either as the page's own URL (html) or as the package_search call
    the page makes from them (see ckan/views/dataset.py: search)."""
    q = "" if rng.random() < 0.35 else _words(rng)
    page = _page(rng)
    filters = []
    if tenant:
        filters.append(("organization", tenant))
    if rng.random() < 0.25:
        filters.append(rng.choice([("res_format", rng.choice(FORMATS)), ("tags", rng.choice(KEYWORDS)),
                                   ("license_id", rng.choice(LICENCE_IDS))]))
    sort = rng.choice(SORTS) if rng.random() < 0.15 else None
    bbox = _bbox(rng, context.tenants[tenant]["bbox"] if tenant else REGION) if kind == "karte" else None
    if html:
        params = [("q", q)] + filters + ([("page", page)] if page > 1 else []) + \
                 ([("sort", sort)] if sort else []) + ([("ext_bbox", bbox)] if bbox else [])
        return urllib.parse.urlencode(params)
    fq = "".join(f' {name}:"{value}"' for name, value in filters) + " +dataset_type:dataset"
    params = {"q": q, "fq": fq.strip(), "facet.field": json.dumps(context.facet_fields), "rows": 20,
              "start": (page - 1) * 20}
    if context.include_private:
        params["include_private"] = "true"
    if sort:
        params["sort"] = sort
    if bbox:
        params["ext_bbox"] = bbox
    return urllib.parse.urlencode(params)


# --------------------------------------------------------------------------------------------------
# Concurrent clients
# --------------------------------------------------------------------------------------------------

@dataclass
class CellResult:
    target: str
    clients: int
    tenant_filter: bool
    seconds: float
    latencies: list = field(default_factory=list)   # seconds, requests started within the window
    kinds: dict = field(default_factory=dict)       # kind -> latencies
    errors: int = 0
    error_examples: list = field(default_factory=list)
    bytes: int = 0
    load_before: float = 0.0
    load_after: float = 0.0
    cpu: dict = field(default_factory=dict)         # process group -> CPU seconds within the window
    cores: int = os.cpu_count() or 1

    def summary(self):
        count = len(self.latencies)
        ms = [value * 1000 for value in self.latencies]
        return {
            "target": self.target, "clients": self.clients,
            "filter": "tenant" if self.tenant_filter else "none",
            "requests": count, "errors": self.errors,
            "requests_per_second": count / self.seconds if self.seconds else None,
            "p50_ms": percentile(ms, 0.50) if ms else None, "p95_ms": percentile(ms, 0.95) if ms else None,
            "p99_ms": percentile(ms, 0.99) if ms else None, "max_ms": max(ms) if ms else None,
            "kib_per_response": self.bytes / count / 1024 if count else None,
            "load_before": self.load_before, "load_after": self.load_after,
            "cpu_ms_per_request": {name: seconds * 1000 / count for name, seconds in self.cpu.items()
                                   if name != "machine"} if count else {},
            # how busy the whole machine was, and how much of that was not this benchmark's stack
            "machine_busy": self.cpu.get("machine", 0) / (self.seconds * self.cores) if self.seconds else None,
            "others_busy": (self.cpu.get("machine", 0) - sum(value for name, value in self.cpu.items()
                                                             if name != "machine"))
            / (self.seconds * self.cores) if self.seconds else None,
            "p95_ms_by_kind": {kind: percentile(values, 0.95) * 1000 for kind, values in self.kinds.items()},
        }


def _response_ok(target, status, body):
    if status != 200:
        return False
    if target == "api":
        return b'"success": true' in body[:400]
    return b"</html>" in body[-200:]


def _client(port, target, make, rng, stop, records):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        request = make(rng)
        started = time.perf_counter()
        try:
            connection.request("GET", request.path, headers=request.headers)
            response = connection.getresponse()
            body, status = response.read(), response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            body, status = str(error).encode(), 0
        elapsed = time.perf_counter() - started
        records.append((started, elapsed, request, status, body if not _response_ok(target, status, body)
                        else None, len(body)))


def _cpu_by_process_group(server, database_name):
    """CPU seconds so far of: the gunicorn master and workers, this process (the clients), Solr (shared)
    and the PostgreSQL backends of the benchmark's database (the server's pooled connections)."""
    solr = solr_root()
    return {"machine": machine_busy_seconds(), "ckan": server.cpu_seconds(), "client": sum(os.times()[:2]),
            "solr": tree_cpu_seconds(solr) if solr else None,
            "postgresql": sum(tree_cpu_seconds(pid) for pid in database_backends(database_name))}


def run_cell(server, target, clients, tenant_filter, context, warmup, duration, seed, database_name):
    """`clients` closed-loop clients (no think time) for warmup + duration seconds; only requests that
    start within the last `duration` seconds are counted."""
    stop = threading.Event()
    records = [[] for _ in range(clients)]
    threads = [threading.Thread(
        target=_client, daemon=True,
        args=(server.port, target, lambda rng: make_request(rng, context, tenant_filter, target),
              random.Random(seed * 1000 + index), stop, records[index]))
        for index in range(clients)]
    result = CellResult(target, clients, tenant_filter, duration, load_before=os.getloadavg()[0])
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    window_start, cpu_before = time.perf_counter(), _cpu_by_process_group(server, database_name)
    time.sleep(duration)
    window_end, cpu_after = time.perf_counter(), _cpu_by_process_group(server, database_name)
    stop.set()
    for thread in threads:
        thread.join()
    result.load_after = os.getloadavg()[0]
    result.seconds = window_end - window_start
    result.cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_before
                  if cpu_before[name] is not None and cpu_after[name] is not None}
    for started, elapsed, request, status, bad_body, size in (record for per_client in records
                                                               for record in per_client):
        if not window_start <= started < window_end:
            continue
        result.latencies.append(elapsed)
        result.kinds.setdefault(request.kind, []).append(elapsed)
        result.bytes += size
        if bad_body is not None:
            result.errors += 1
            if len(result.error_examples) < 3:
                result.error_examples.append(f"{status} {request.path[:150]}: {bad_body[:200]!r}")
    return result


def check_responses(server, context, samples, seed):
    """Untimed sanity check of the mix through the server: every response succeeds, a tenant-filtered
    search returns only that municipality's datasets, and private datasets reach only their own editors.
    Returns (number of requests checked, list of problems)."""
    rng, problems, checked = random.Random(seed), [], 0
    ids_to_names = {tenant["id"]: name for name, tenant in context.tenants.items()}
    for tenant_filter in (False, True):
        for _ in range(samples):
            request = make_request(rng, context, tenant_filter, "api")
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            connection.request("GET", request.path, headers=request.headers)
            response = connection.getresponse()
            body = response.read()
            checked += 1
            if response.status != 200:
                problems.append(f"{response.status} for {request.path[:150]}: {body[:200]!r}")
                continue
            for dataset in json.loads(body)["result"]["results"]:
                owner = ids_to_names.get(dataset["owner_org"])
                if request.tenant and owner != request.tenant:
                    problems.append(f"{dataset['name']} of {owner} in a search restricted to {request.tenant}")
                if dataset.get("private") and owner != request.editor:
                    problems.append(f"private dataset {dataset['name']} of {owner} shown to "
                                    f"{'editor of ' + request.editor if request.editor else 'anonymous'}")
    return checked, problems
