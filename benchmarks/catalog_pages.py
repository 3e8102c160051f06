"""Benchmark: page through the whole DCAT catalog (/catalog.ttl) with our profile and with the stock one.

What is measured
----------------
The time CKAN needs to serve the complete catalog as Turtle, page by page, the way a harvester such as
GovData reads it: GET /catalog.ttl?page=1, follow the hydra ``nextPage`` link, and so on until a page has
no ``nextPage``. One such walk through all pages is a *pass*. A pass is made for two settings of
``ckanext.dcat.rdf.profiles``:

- stock: ``euro_dcat_ap_3``, ckanext-dcat's DCAT-AP 3 profile, the baseline. It already contains the
  ckanext-scheming layer (``EuropeanDCATAP3Profile`` subclasses ``EuropeanDCATAPSchemingProfile``), so
  ``euro_dcat_ap_scheming`` is not added: listed as well, it runs a second time and writes contact points,
  dct:spatial and dct:temporal twice (the report points such overlaps out);
- ours: the setting of the loaded configuration (``config/common.ini``: ``dcat_ap_de``, our DCAT-AP.de
  profile, entry point ``dcat_ap_de`` in ``ckan.rdf.profiles``, a subclass of ``euro_dcat_ap_3``). A profile
  that is not registered (yet) is reported as unavailable; the baseline is still measured.

``--stock-profiles`` and ``--our-profiles`` measure other settings.

Our setting is measured three times: "ours" with ckanext-suedwest's fragment cache off (the profile's own
cost against stock), "ours-cold" with the cache emptied before every pass (after a Redis flush, until
``ckan search-index rebuild``: build, write and store every dataset's Turtle) and "ours-warm" with the cache
as the platform keeps it (fragments are written when a dataset is saved, so the seeding already fills it;
what GovData's harvests meet). The targets are checked on "ours-warm", the way the platform serves the
catalog; the table shows all four.

Runs are interleaved (stock, ours, ours-cold, ours-warm, stock, ... ``--rounds`` times) so that drift (caches, the machine
getting busy) affects both alike; the report gives the median over the rounds of: seconds for a full pass,
datasets per second, pages, 95th percentile of the page latency, SQL statements per page and bytes served.

Only the request/response is timed (the WSGI call through the Flask test client, including reading the
body). Parsing the Turtle with rdflib, to count the dcat:Dataset nodes and find ``nextPage``, happens
outside the timed part.

How
---
CKAN is loaded in this process the way its CLI does it (``ckan.cli.load_config`` and
``ckan.config.middleware.make_app``) from the TEST configuration (``test.ini``: database ``ckan_test``,
Solr core ``ckan_test``; the ``CKAN_*`` environment overrides apply, as in the test suite). Because it
resets that database, the script refuses to run against a database or Solr core whose name does not
contain ``test``, while a pytest process uses the same database or Solr site id, and while another
benchmark runs on the same database (the rules are in ``_common.py``):

1. reset the test database (as CKAN's ``reset_db`` plus the activity and harvest migrations, like our
   ``conftest.py``) and delete this site's documents from the Solr core;
2. create one sysadmin, one organisation and ``--datasets`` datasets (default 2000) through the action API
   (``package_create``, full validation and indexing), with Solr commits batched: one commit at the end
   instead of one per dataset. The seeding time is measured and printed;
3. measure, switching the profile setting in ``ckan.common.config`` between passes (ckanext-dcat's
   ``RDFSerializer`` reads ``ckanext.dcat.rdf.profiles`` whenever it is created, i.e. on every request);
4. empty the test database and Solr core again (unless ``--keep-data``).

Targets (issue "page through the whole /catalog.ttl with 2,000 datasets"): our profile serves at least
500 datasets/s, and needs no more than 1.3 times the stock profile's time. The script prints PASS or MISS
for each and exits 0 either way; it is a benchmark, not a test. Exit status 2 means it could not run.

Usage (from the repository root, services up: ``make services``)::

    .venv/bin/python benchmarks/catalog_pages.py --datasets 200
    .venv/bin/python benchmarks/catalog_pages.py                 # 2000 datasets, 3 rounds
    .venv/bin/python benchmarks/catalog_pages.py --json > result.json

See benchmarks/README.md for all options and how to read the figures.
"""
import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from _common import (CannotRun, DEFAULT_CONFIG, SqlStatementCounter, batched_solr_commits, ckan_for_benchmark,
                     conflicting_pytest_processes, create_sysadmin, format_table, percentile, progress,
                     reset_test_database_and_index, run_main, wait_for_solr)

STOCK_PROFILES = "euro_dcat_ap_3"

TARGET_DATASETS_PER_SECOND = 500
TARGET_MAX_RATIO = 1.3

PROFILES_OPTION = "ckanext.dcat.rdf.profiles"
# ckanext-suedwest's cache of each dataset's Turtle (catalog_cache.py): off for "stock" and "ours",
# emptied before every pass for "ours-cold", kept between passes for "ours-warm".
CACHE_TTL_OPTION = "ckanext.suedwest.catalog_cache_ttl"
CACHE_TTL_SECONDS = 3600
CACHE_KEY_PREFIX = "suedwest:catalog-ttl:"
PER_PAGE_OPTION = "ckanext.dcat.datasets_per_page"

BENCHMARK_USER = "benchmark-sysadmin"
BENCHMARK_ORGANIZATION = "landkreis-kusel"

# Above this many SQL statements per dataset served, the report says that a profile seems to query the
# database once per dataset (a fixed number of statements per page is normal: auth, organisation, ...).
PER_DATASET_QUERY_WARNING = 0.5


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------

def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description="Page through the whole /catalog.ttl with the stock and our DCAT profile and compare.")
    parser.add_argument("--datasets", type=int, default=2000,
                        help="datasets to create before measuring (default: 2000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds per profile; the report gives the median (default: 3)")
    parser.add_argument("--per-page", type=int, default=None,
                        help=f"{PER_PAGE_OPTION} during the measurement "
                             "(default: the configured value, ckanext-dcat's default is 100)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG),
                        help="CKAN test configuration (default: test.ini); database and Solr core names "
                             "must contain 'test'")
    parser.add_argument("--stock-profiles", default=STOCK_PROFILES,
                        help=f"baseline value of {PROFILES_OPTION} (default: %(default)r)")
    parser.add_argument("--our-profiles", default=None,
                        help=f"our value of {PROFILES_OPTION} (default: the one in the configuration)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config option before CKAN starts (repeatable), e.g. to try "
                             "another dataset schema while ours is unfinished")
    parser.add_argument("--drop-rejected", action="store_true",
                        help="if package_create rejects some fields of the generated datasets, leave "
                             "those fields out (and say so in the report) instead of stopping")
    parser.add_argument("--no-seed", action="store_true",
                        help="do not reset and seed: measure whatever the test database holds now")
    parser.add_argument("--keep-data", action="store_true",
                        help="leave the seeded datasets in the test database afterwards (for --no-seed)")
    parser.add_argument("--force", action="store_true",
                        help="run even though a pytest process seems to use the same test stack")
    parser.add_argument("--json", action="store_true",
                        help="print the results as JSON instead of the text report")
    parser.add_argument("--verbose", action="store_true", help="keep CKAN's INFO logging")
    arguments = parser.parse_args(argv)
    if arguments.datasets < 1 or arguments.rounds < 1:
        parser.error("--datasets and --rounds must be at least 1")
    if arguments.per_page is not None and arguments.per_page < 1:
        parser.error("--per-page must be at least 1")
    for override in arguments.overrides:
        if "=" not in override:
            parser.error(f"--set expects KEY=VALUE, got {override!r}")
    arguments.config = str(Path(arguments.config).resolve())  # before main() changes directory
    return arguments


# --------------------------------------------------------------------------------------------------
# Generating realistic datasets
# --------------------------------------------------------------------------------------------------

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"

# (title, EU data themes, keyword) of typical municipal open data
TOPICS = [
    ("Pegelstände des Glan", ["ENVI"], "Hochwasser"),
    ("Luftqualität an Messstationen", ["ENVI", "HEAL"], "Luftqualität"),
    ("Fahrradzählstellen", ["TRAN"], "Radverkehr"),
    ("Haltestellen des ÖPNV", ["TRAN"], "ÖPNV"),
    ("Öffentliche Toiletten", ["SOCI"], "Barrierefreiheit"),
    ("Bevölkerung nach Altersgruppen", ["SOCI"], "Bevölkerung"),
    ("Haushaltsplan und Jahresabschluss", ["ECON", "GOVE"], "Haushalt"),
    ("Schulen und Kindertagesstätten", ["EDUC"], "Bildung"),
    ("Straßenbäume und Grünflächen", ["ENVI"], "Stadtgrün"),
    ("Ergebnisse der Kommunalwahl", ["GOVE"], "Wahlen"),
    ("Gewerbeanmeldungen", ["ECON"], "Wirtschaft"),
    ("Ladesäulen für Elektrofahrzeuge", ["ENER", "TRAN"], "Elektromobilität"),
    ("Sportstätten und Freibäder", ["EDUC"], "Sport"),
    ("Trinkwasserqualität", ["HEAL", "ENVI"], "Trinkwasser"),
    ("Baustellen und Straßensperrungen", ["TRAN"], "Baustellen"),
    ("Müllabfuhrtermine", ["ENVI", "SOCI"], "Abfallwirtschaft"),
]
FREQUENCIES = ["DAILY", "WEEKLY", "MONTHLY", "ANNUAL", "IRREG"]

# A rough outline of the Landkreis Kusel (district key 07336), lon/lat
KUSEL_POLYGON = {
    "type": "Polygon",
    "coordinates": [[[7.20, 49.43], [7.62, 49.43], [7.62, 49.69], [7.20, 49.69], [7.20, 49.43]]],
}


def make_dataset_dict(number, organization_id):
    """A dataset as a municipality would publish it, with the DCAT-AP.de fields of schemas/dataset.yaml."""
    title, themes, keyword = TOPICS[number % len(TOPICS)]
    year = 2015 + number % 11
    name = f"benchmark-{number:05d}"
    return {
        "name": name,
        "title": f"{title} im Landkreis Kusel ({year}, Nr. {number})",
        "owner_org": organization_id,
        "notes": (
            f"## {title}\n\n"
            f"Der Datensatz enthält {title.lower()} für das Gebiet des Landkreises Kusel seit {year}. "
            "Die Daten werden von der Kreisverwaltung erhoben, geprüft und regelmäßig veröffentlicht; "
            "Änderungen gegenüber früheren Jahrgängen sind in der Dokumentation beschrieben.\n\n"
            "- Gemeinden: Kusel, Altenglan, Lauterecken-Wolfstein, Oberes Glantal\n"
            "- Fragen und Hinweise bitte an das Open-Data-Team der Kreisverwaltung."
        ),
        "theme": [EU_THEME + theme for theme in themes],
        "license_id": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        "license_attribution_by_text": f"Kreisverwaltung Kusel, Open-Data-Team ({year})",
        "tag_string": f"Landkreis Kusel,{keyword},Offene Daten,Jahrgang {year}",
        "contact": [{"name": "Kreisverwaltung Kusel, Open-Data-Team", "email": "opendata@kreis-kusel.example"}],
        "spatial_coverage": [{"text": "Landkreis Kusel", "geom": json.dumps(KUSEL_POLYGON)}],
        "temporal_coverage": [{"start": f"{year}-01-01"}],
        "frequency": EU_FREQUENCY + FREQUENCIES[number % len(FREQUENCIES)],
        "language": ["http://publications.europa.eu/resource/authority/language/DEU"],
        "political_geocoding_level_uri": "http://dcat-ap.de/def/politicalGeocoding/Level/administrativeDistrict",
        "political_geocoding_uri": ["http://dcat-ap.de/def/politicalGeocoding/districtKey/07336"],
        "contributor_id": "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz",
        "resources": [
            {"url": f"https://daten.kreis-kusel.example/{name}/daten.csv",
             "name": f"{title} {year} (CSV)", "format": "CSV"},
            {"url": f"https://daten.kreis-kusel.example/{name}/daten.json",
             "name": f"{title} {year} (JSON)", "format": "JSON"},
        ],
    }


# Fields that --drop-rejected must never drop: without them there is no meaningful dataset.
ESSENTIAL_FIELDS = {"name", "title", "owner_org", "resources"}


# --------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------

@dataclass
class SeedResult:
    datasets: int
    seconds: float
    left_out_fields: list = field(default_factory=list)     # rejected by package_create, dropped
    not_stored_fields: list = field(default_factory=list)   # accepted but absent from package_show

    def as_dict(self):
        return {
            "datasets": self.datasets,
            "seconds": round(self.seconds, 3),
            "datasets_per_second": round(self.datasets / self.seconds, 1) if self.seconds else None,
            "left_out_fields": self.left_out_fields,
            "not_stored_fields": self.not_stored_fields,
        }


def create_first_dataset(context, dataset_dict, drop_rejected):
    """Create the first dataset; with --drop-rejected, leave out the fields package_create rejects.

    Returns the names of the fields left out, so that all further datasets leave them out too.
    """
    import ckan.plugins.toolkit as tk

    left_out = []
    while True:
        try:
            tk.get_action("package_create")(dict(context), dataset_dict)
            return left_out
        except tk.ValidationError as error:
            rejected = sorted(key for key in error.error_dict if key in dataset_dict)
            droppable = [key for key in rejected if key not in ESSENTIAL_FIELDS]
            if not drop_rejected or not droppable or droppable != rejected:
                raise CannotRun(
                    f"package_create rejected the generated dataset: {error.error_dict}"
                    + ("" if drop_rejected else "  (--drop-rejected leaves such fields out)")) from error
            for key in droppable:
                dataset_dict.pop(key)
            left_out.extend(droppable)
            progress(f"  package_create rejected {', '.join(droppable)}: leaving them out")


def fields_not_stored(sent, stored):
    """Fields we sent that package_show does not return (a schema without them drops them silently)."""
    missing = []
    for key, value in sent.items():
        if key in ("tag_string", "owner_org", "resources"):
            continue  # stored as tags / organization / checked below
        if stored.get(key) in (None, "", []):
            missing.append(key)
    stored_resources = stored.get("resources") or []
    if len(stored_resources) != len(sent.get("resources", [])):
        missing.append("resources")
    elif any(not resource.get("format") for resource in stored_resources):
        missing.append("resources.format")
    return sorted(missing)


def seed_datasets(flask_app, count, drop_rejected, stop_if_pytest_runs=lambda: None):
    """Create one organisation and `count` datasets through the action API; Solr commits are batched."""
    import ckan.plugins.toolkit as tk

    started = time.perf_counter()
    try:
        with batched_solr_commits(), flask_app.test_request_context():
            user = create_sysadmin(BENCHMARK_USER)
            context = {"user": user}
            organization = tk.get_action("organization_create")(
                dict(context), {"name": BENCHMARK_ORGANIZATION, "title": "Landkreis Kusel"})

            first = make_dataset_dict(0, organization["id"])
            left_out = create_first_dataset(context, first, drop_rejected)
            stored = tk.get_action("package_show")(dict(context), {"id": first["name"]})
            not_stored = fields_not_stored(first, stored)

            # The first dataset was created above; `return_id_only` skips the package_show that
            # package_create would otherwise run to build its return value.
            for number in range(1, count):
                dataset_dict = make_dataset_dict(number, organization["id"])
                for key in left_out:
                    dataset_dict.pop(key, None)
                tk.get_action("package_create")(dict(context, return_id_only=True), dataset_dict)
                if number % 10 == 0:
                    stop_if_pytest_runs()  # ~5 ms; stop quickly rather than disturb a test run
                if (number + 1) % max(1, count // 10) == 0:
                    progress(f"  {number + 1}/{count} datasets "
                             f"({time.perf_counter() - started:.0f} s)")
    except tk.ValidationError as error:
        raise CannotRun(f"package_create rejected a generated dataset: {error.error_dict}") from error

    indexed = wait_for_solr(count)
    if indexed != count:
        raise CannotRun(f"created {count} datasets but Solr finds {indexed}")
    return SeedResult(count, time.perf_counter() - started, left_out, not_stored)


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------

HYDRA_NEXT_PAGE = "http://www.w3.org/ns/hydra/core#nextPage"


@dataclass
class PassResult:
    """One walk through all catalog pages with one profile setting."""
    seconds: float            # sum of the page request times
    page_seconds: list        # time of each page request
    datasets: int             # dcat:Dataset nodes over all pages
    unique_datasets: int      # distinct dataset URIs (fewer than `datasets` means pages overlap)
    triples: int
    bytes: int
    sql_statements: int

    @property
    def pages(self):
        return len(self.page_seconds)


def path_of(url):
    """The hydra links are absolute (ckan.site_url); the test client wants path and query."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def parse_page(body):
    """Untimed: the dataset URIs, triple count and next page of one Turtle page."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT, RDF

    graph = Graph().parse(data=body, format="turtle")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    next_pages = list(graph.objects(None, URIRef(HYDRA_NEXT_PAGE)))
    return datasets, len(graph), (str(next_pages[0]) if next_pages else None)


def fetch_page(client, path):
    """Timed: one GET through CKAN's full WSGI stack, including reading the body."""
    started = time.perf_counter()
    response = client.get(path)
    body = response.get_data()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {body[:300]!r}")
    return body, elapsed


def page_through_catalog(client, sql_counter, max_pages, stop_if_pytest_runs=lambda: None):
    """One pass: GET /catalog.ttl?page=1, 2, ... until a page has no hydra nextPage."""
    path = "/catalog.ttl?page=1"
    page_seconds, dataset_uris = [], []
    triples = size = 0
    statements_before = sql_counter.count
    while path:
        if len(page_seconds) >= max_pages:
            raise RuntimeError(f"still a nextPage after {max_pages} pages: paging does not end")
        body, elapsed = fetch_page(client, path)
        page_seconds.append(elapsed)
        size += len(body)
        datasets, page_triples, next_page = parse_page(body)
        dataset_uris.extend(datasets)
        triples += page_triples
        path = path_of(next_page) if next_page else None
        stop_if_pytest_runs()  # between pages, outside the timed part
    return PassResult(
        seconds=sum(page_seconds), page_seconds=page_seconds, datasets=len(dataset_uris),
        unique_datasets=len(set(dataset_uris)), triples=triples, bytes=size,
        sql_statements=sql_counter.count - statements_before)


@dataclass
class ProfileRun:
    """All passes of one profile setting, with the Turtle fragment cache off, cold (emptied before every
    pass) or warm (filled by the passes before)."""
    label: str
    setting: str
    cache: str = "off"
    loaded_profiles: list = field(default_factory=list)
    overlaps: list = field(default_factory=list)   # (subclass, base) pairs, see overlapping_profiles()
    unavailable: str = ""
    passes: list = field(default_factory=list)

    def median(self, value_of):
        return statistics.median(value_of(one_pass) for one_pass in self.passes)

    def summary(self):
        if self.unavailable or not self.passes:
            return None
        seconds = self.median(lambda p: p.seconds)
        datasets = self.median(lambda p: p.datasets)
        pages = self.median(lambda p: p.pages)
        return {
            "seconds": seconds,
            "datasets": datasets,
            "unique_datasets": self.median(lambda p: p.unique_datasets),
            "datasets_per_second": datasets / seconds if seconds else None,
            "pages": pages,
            "p95_page_seconds": self.median(lambda p: percentile(p.page_seconds, 0.95)),
            "max_page_seconds": self.median(lambda p: max(p.page_seconds)),
            "sql_statements_per_page": self.median(lambda p: p.sql_statements / p.pages),
            "sql_statements_per_dataset": self.median(lambda p: p.sql_statements / max(1, p.datasets)),
            "triples_per_dataset": self.median(lambda p: p.triples / max(1, p.datasets)),
            "bytes_per_pass": self.median(lambda p: p.bytes),
        }


def use_run(run):
    """Switch profiles and fragment cache for the next requests (a cold run starts from an empty cache)."""
    from ckan.common import config
    from ckan.lib.redis import connect_to_redis

    config[CACHE_TTL_OPTION] = 0 if run.cache == "off" else CACHE_TTL_SECONDS
    if run.cache == "cold":
        redis = connect_to_redis()
        for key in redis.scan_iter(f"{CACHE_KEY_PREFIX}*"):
            redis.delete(key)
    return use_profiles(run.setting)


def use_profiles(setting):
    """Switch the profiles for the next requests and return the profile classes ckanext-dcat then loads."""
    from ckan.common import config
    from ckanext.dcat.processors import RDFSerializer

    config[PROFILES_OPTION] = setting
    serializer = RDFSerializer()  # reads PROFILES_OPTION now, as the catalog view does per request
    return serializer._profiles  # the profile classes, in order; each has a `name`


def overlapping_profiles(profile_classes):
    """Pairs (subclass, base) in one setting: the base's graph_from_dataset then runs twice per dataset."""
    return [(sub.name, base.name) for sub in profile_classes for base in profile_classes
            if sub is not base and issubclass(sub, base)]


def check_profiles_available(runs):
    """Mark the profile settings whose profiles ckanext-dcat cannot load (e.g. not registered yet)."""
    for run in runs:
        try:
            profile_classes = use_profiles(run.setting)
        except Exception as error:  # RDFProfileException for unknown names, ImportError, ...
            run.unavailable = f"{type(error).__name__}: {error}"
            continue
        run.loaded_profiles = [profile.name for profile in profile_classes]
        run.overlaps = overlapping_profiles(profile_classes)


def measure(client, runs, rounds, expected_datasets, per_page, stop_if_pytest_runs=lambda: None):
    """Warm up each profile with one page, then interleave full passes: A, B, A, B, ..."""
    sql_counter = SqlStatementCounter()
    available = [run for run in runs if not run.unavailable]
    max_pages = math.ceil(expected_datasets / per_page) + 5
    for run in available:
        use_run(run)
        try:
            fetch_page(client, "/catalog.ttl?page=1")  # first-request costs (imports, caches) stay out
        except Exception as error:  # an error status, or the view's exception (the test client re-raises)
            run.unavailable = f"the catalog fails: {type(error).__name__}: {error}"
            progress(f"  {run.label}: {run.unavailable}")
    available = [run for run in available if not run.unavailable]
    for round_number in range(1, rounds + 1):
        for run in available:
            use_run(run)
            result = page_through_catalog(client, sql_counter, max_pages, stop_if_pytest_runs)
            run.passes.append(result)
            progress(f"  round {round_number}/{rounds} {run.label:5}: {result.seconds:7.2f} s, "
                     f"{result.pages} pages, {result.datasets} datasets")


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

def evaluate_targets(stock, ours, valid):
    """PASS/MISS for the two targets of the issue on what the platform serves: our profile with a warm
    fragment cache (MISS when it could not be measured, INVALID when a pass did not serve the seeded
    datasets). The uncached and cold figures are in the table."""
    ours_summary, stock_summary = ours.summary(), stock.summary()
    targets = {}
    if ours_summary:
        rate = ours_summary["datasets_per_second"]
        targets["throughput"] = {"target": f">= {TARGET_DATASETS_PER_SECOND} datasets/s", "value": rate,
                                 "result": "PASS" if rate >= TARGET_DATASETS_PER_SECOND else "MISS"}
    else:
        targets["throughput"] = {"target": f">= {TARGET_DATASETS_PER_SECOND} datasets/s", "value": None,
                                 "result": "MISS", "reason": "our profile was not measured"}
    if ours_summary and stock_summary:
        ratio = ours_summary["seconds"] / stock_summary["seconds"]
        targets["ratio"] = {"target": f"<= {TARGET_MAX_RATIO}x the stock profile's time", "value": ratio,
                            "result": "PASS" if ratio <= TARGET_MAX_RATIO else "MISS"}
    else:
        targets["ratio"] = {"target": f"<= {TARGET_MAX_RATIO}x the stock profile's time", "value": None,
                            "result": "MISS", "reason": "both profiles must be measured"}
    if not valid:
        for target in targets.values():
            target.update(result="INVALID", reason="a pass did not serve the seeded datasets")
    return targets


def all_passes_complete(runs, expected_datasets):
    """Did every pass serve each seeded dataset exactly once?"""
    return all(one_pass.datasets == expected_datasets == one_pass.unique_datasets
               for run in runs for one_pass in run.passes)


def observations(runs, expected_datasets):
    """Things worth a second look, in plain words."""
    notes = []
    for run in runs:
        for subclass, base in run.overlaps:
            notes.append(f"{run.label}: '{run.setting}' lists {base} and {subclass}, which subclasses it: "
                         f"{base}'s part runs twice per dataset (duplicate blank nodes, extra time)")
        for number, one_pass in enumerate(run.passes, 1):
            if one_pass.datasets != expected_datasets or one_pass.unique_datasets != one_pass.datasets:
                notes.append(f"{run.label}: pass {number} served {one_pass.datasets} dataset nodes "
                             f"({one_pass.unique_datasets} distinct), expected {expected_datasets}: did the "
                             "test database change during the run (a pytest run)? Figures are not valid")
        summary = run.summary()
        if not summary:
            continue
        if summary["datasets"] >= 50 and summary["sql_statements_per_dataset"] >= PER_DATASET_QUERY_WARNING:
            notes.append(f"{run.label}: {summary['sql_statements_per_dataset']:.2f} SQL statements per dataset "
                         "served: the profile (or something it calls) seems to query the database per dataset")
    stock, ours = runs[0].summary(), runs[1].summary()
    if stock and ours and stock["bytes_per_pass"] == ours["bytes_per_pass"]:
        notes.append("both profiles produced exactly the same number of bytes: is the switch effective?")
    return notes


def build_results(arguments, per_page, expected_datasets, seed, runs):
    stock, ours, _, served = runs
    stock_summary, ours_summary = stock.summary(), ours.summary()
    valid = all_passes_complete(runs, expected_datasets)
    return {
        "valid": valid,
        "config": arguments.config,
        "overrides": arguments.overrides,
        "datasets": expected_datasets,
        "per_page": per_page,
        "rounds": arguments.rounds,
        "seeding": seed.as_dict() if seed else None,
        "profiles": {
            run.label: {
                "setting": run.setting,
                "fragment_cache": run.cache,
                "loaded_profiles": run.loaded_profiles,
                "overlapping_profiles": run.overlaps,
                "unavailable": run.unavailable or None,
                "median": run.summary(),
                "passes": [{"seconds": p.seconds, "pages": p.pages, "datasets": p.datasets,
                            "p95_page_seconds": percentile(p.page_seconds, 0.95),
                            "sql_statements": p.sql_statements, "bytes": p.bytes,
                            "page_seconds": p.page_seconds} for p in run.passes],
            } for run in runs
        },
        "ratio_ours_to_stock": (ours_summary["seconds"] / stock_summary["seconds"]
                                if ours_summary and stock_summary else None),
        "targets": evaluate_targets(stock, served, valid),
        "observations": observations(runs, expected_datasets),
    }


def print_report(results):
    seeding = results["seeding"]
    print(f"/catalog.ttl paging benchmark: {results['datasets']} datasets, {results['per_page']} per page, "
          f"median of {results['rounds']} interleaved rounds ({Path(results['config']).name}"
          + (f", overrides: {'; '.join(results['overrides'])}" if results["overrides"] else "") + ")")
    if not results["valid"]:
        print("WARNING: a pass did not serve each seeded dataset exactly once (did the test database change "
              "during the run?): the figures are not valid")
    if seeding:
        print(f"Seeding: {seeding['datasets']} datasets in {seeding['seconds']:.1f} s "
              f"({seeding['datasets_per_second']} datasets/s, package_create, one Solr commit)")
        print(f"  fields left out (rejected by package_create): {', '.join(seeding['left_out_fields']) or 'none'}")
        print(f"  fields sent but not stored by the schema:     {', '.join(seeding['not_stored_fields']) or 'none'}")
    else:
        print("Seeding: skipped (--no-seed), measured what the test database holds")
    print()
    rows, unavailable = [], []
    for label, profile in results["profiles"].items():
        summary = profile["median"]
        if not summary:
            unavailable.append(f"{label}: unavailable, {profile['setting']}: {profile['unavailable']}")
            continue
        rows.append((label, summary["seconds"], summary["datasets_per_second"], summary["pages"],
                     summary["p95_page_seconds"], summary["sql_statements_per_page"],
                     summary["triples_per_dataset"], summary["bytes_per_pass"] / 1024,
                     f"{profile['setting']}, cache {profile['fragment_cache']}"))
    print(format_table([("run", "<"), ("seconds", ".2f"), ("datasets/s", ".0f"), ("pages", ".0f"),
                        ("p95 page s", ".3f"), ("SQL/page", ".1f"), ("triples/ds", ".1f"), ("KiB/pass", ".0f"),
                        (" setting", "<")], rows))
    for line in unavailable:
        print(line)
    ratio = results["ratio_ours_to_stock"]
    print(f"ratio ours/stock time, both uncached: {ratio:.2f}" if ratio else "ratio ours/stock time: n/a")
    print()
    print("Targets")
    for target in results["targets"].values():
        value = target["value"]
        shown = "n/a" if value is None else (f"{value:.0f} datasets/s" if "datasets" in target["target"]
                                             else f"{value:.2f}x")
        reason = f" ({target['reason']})" if target.get("reason") else ""
        print(f"  ours-warm {target['target']:<36} {target['result']:4}  {shown}{reason}")
    if results["observations"]:
        print()
        print("Observations")
        for note in results["observations"]:
            print(f"  - {note}")


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

def run_benchmark(arguments):
    with ckan_for_benchmark(arguments) as (app, stack, stop_if_pytest_runs):
        return measure_with_ckan(arguments, app, stack, stop_if_pytest_runs)


def measure_with_ckan(arguments, app, stack, stop_if_pytest_runs):
    from ckan.common import config
    from ckan.tests.helpers import CKANTestApp

    flask_app = app._wsgi_app
    client = CKANTestApp(app).test_client()

    seed = None
    if arguments.no_seed:
        import ckan.plugins.toolkit as tk
        expected = tk.get_action("package_search")({"ignore_auth": True}, {"rows": 0})["count"]
    else:
        progress("Resetting the test database and Solr core ...")
        reset_test_database_and_index()
        progress(f"Creating {arguments.datasets} datasets ...")
        seed = seed_datasets(flask_app, arguments.datasets, arguments.drop_rejected, stop_if_pytest_runs)
        expected = seed.datasets
        progress(f"  done in {seed.seconds:.1f} s")

    if arguments.per_page is not None:
        config[PER_PAGE_OPTION] = arguments.per_page
    per_page = int(config.get(PER_PAGE_OPTION) or 100)
    rows_max = int(config.get("ckan.search.rows_max") or 1000)
    if per_page > rows_max:
        raise CannotRun(f"{PER_PAGE_OPTION}={per_page} is above ckan.search.rows_max={rows_max}: "
                        "package_search would return fewer rows than the paging assumes")

    our_profiles = arguments.our_profiles or config.get(PROFILES_OPTION)
    runs = [ProfileRun("stock", arguments.stock_profiles), ProfileRun("ours", our_profiles),
            ProfileRun("ours-cold", our_profiles, cache="cold"), ProfileRun("ours-warm", our_profiles, cache="warm")]
    check_profiles_available(runs)
    for run in runs:
        if run.unavailable:
            progress(f"  {run.label} profiles {run.setting!r} unavailable: {run.unavailable}")
    progress(f"Measuring {arguments.rounds} rounds ...")
    measure(client, runs, arguments.rounds, expected, per_page, stop_if_pytest_runs)
    results = build_results(arguments, per_page, expected, seed, runs)
    if conflicting_pytest_processes(stack):
        results["observations"].append("a pytest process uses the same test stack now: if it started during "
                                        "the measurement, it may have disturbed it")
    elif seed and not arguments.keep_data:
        progress("Emptying the test database and Solr core again (--keep-data keeps the datasets) ...")
        reset_test_database_and_index()
    return results


def main(argv=None):
    return run_main("catalog_pages", parse_arguments(argv), run_benchmark, print_report)


if __name__ == "__main__":
    sys.exit(main())
