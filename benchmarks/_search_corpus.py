"""The data set of the search benchmark: DCAT-AP.de datasets of the six municipalities, and seeding them.

Datasets are generated deterministically from their number (the same number gives the same dataset),
spread over the tenants of config/tenants.yaml roughly by size, with German titles and descriptions built
from municipal topics and place names, EU data themes, keywords, one to three distributions in typical
formats, licences, temporal coverage and, for most datasets, a spatial coverage inside the municipality
(the others take the municipality's extent from the tenant defaults). About 6 % are private.

Seeding goes through ``package_create`` (full scheming validation, tenant defaults, activities, Solr
indexing) in several processes at once, with Solr commits batched: one commit at the end.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass

from _common import (REPOSITORY_ROOT, CannotRun, batched_solr_commits, load_ckan, load_configuration,
                     make_pytest_guard, progress, quiet_logging, solr_count, wait_for_solr)

# Bump when the generated datasets change: --reuse then seeds again instead of measuring old data.
CORPUS_VERSION = 1
MARKER_KEY = "suedwest.benchmark.tenant_search"  # system_info key describing the seeded data

BENCHMARK_USER = "benchmark-sysadmin"
EDITOR_PREFIX = "benchmark-redaktion-"

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
LICENCES = [("http://dcat-ap.de/def/licenses/dl-by-de/2.0", 55), ("http://dcat-ap.de/def/licenses/dl-zero-de/2.0", 30),
            ("http://dcat-ap.de/def/licenses/cc-by/4.0", 10), ("http://dcat-ap.de/def/licenses/cc-zero", 5)]

# Share of the datasets per tenant (a city publishes more than a small town) and places in each.
TENANT_SHARES = {
    "kaiserslautern": 28, "landkreis-mayen-koblenz": 20, "eifelkreis-bitburg-pruem": 15,
    "landkreis-kusel": 15, "landkreis-sankt-wendel": 13, "linz-am-rhein": 9,
}
PLACES = {
    "kaiserslautern": ["Innenstadt", "Betzenberg", "Hohenecken", "Siegelbach", "Erfenbach", "Morlautern",
                       "Dansenberg", "Einsiedlerhof", "Mölschbach", "Erlenbach"],
    "landkreis-kusel": ["Kusel", "Altenglan", "Lauterecken", "Wolfstein", "Schönenberg-Kübelberg",
                        "Glan-Münchweiler", "Waldmohr", "Rammelsbach"],
    "landkreis-mayen-koblenz": ["Mayen", "Andernach", "Bendorf", "Vallendar", "Weißenthurm", "Mendig",
                                "Polch", "Münstermaifeld", "Kobern-Gondorf"],
    "eifelkreis-bitburg-pruem": ["Bitburg", "Prüm", "Speicher", "Neuerburg", "Arzfeld", "Kyllburg", "Irrel",
                                 "Dudeldorf"],
    "linz-am-rhein": ["Linz", "Dattenberg", "Kasbach-Ohlenberg", "Ockenfels", "Leubsdorf", "Sankt Katharinen",
                      "Vettelschoß"],
    "landkreis-sankt-wendel": ["St. Wendel", "Freisen", "Marpingen", "Nohfelden", "Nonnweiler", "Oberthal",
                               "Namborn", "Tholey"],
}

# (title, themes, keywords, formats, frequency, what the data describes)
TOPICS = [
    ("Pegelstände", ["ENVI"], ["Hochwasser", "Pegel", "Gewässer"], ["CSV", "JSON", "API"], "HOURLY",
     "die Wasserstände der Fließgewässer an den Messstellen"),
    ("Niederschlagsmessungen", ["ENVI"], ["Wetter", "Niederschlag"], ["CSV", "JSON"], "DAILY",
     "die täglichen Niederschlagsmengen der Wetterstationen"),
    ("Luftqualität an Messstationen", ["ENVI", "HEAL"], ["Luftqualität", "Feinstaub", "Stickstoffdioxid"],
     ["CSV", "JSON"], "HOURLY", "Messwerte von Feinstaub und Stickstoffdioxid"),
    ("Lärmkartierung", ["ENVI", "HEAL"], ["Lärm", "Umgebungslärm"], ["GeoJSON", "PDF", "SHP"], "IRREG",
     "die Lärmbelastung an Hauptverkehrsstraßen"),
    ("Haltestellen des ÖPNV", ["TRAN"], ["ÖPNV", "Bus", "Haltestellen"], ["CSV", "GeoJSON", "ZIP"], "MONTHLY",
     "alle Bushaltestellen mit Lage und Barrierefreiheit"),
    ("Fahrplandaten (GTFS)", ["TRAN"], ["ÖPNV", "Fahrplan", "GTFS"], ["ZIP"], "WEEKLY",
     "die Soll-Fahrpläne der Buslinien im GTFS-Format"),
    ("Radverkehrszählstellen", ["TRAN"], ["Radverkehr", "Fahrrad", "Verkehrszählung"], ["CSV", "JSON"], "DAILY",
     "die Zählungen des Radverkehrs an automatischen Zählstellen"),
    ("Radwegenetz", ["TRAN"], ["Radwege", "Fahrrad"], ["GeoJSON", "KML", "GML"], "ANNUAL",
     "das ausgeschilderte Radwegenetz"),
    ("Parkplätze und Parkhäuser", ["TRAN"], ["Parken", "Parkhaus", "Innenstadt"], ["CSV", "JSON", "API"],
     "UPDATE_CONT", "die Belegung der Parkhäuser und Parkplätze"),
    ("Ladesäulen für Elektrofahrzeuge", ["ENER", "TRAN"], ["Elektromobilität", "Ladesäulen"],
     ["CSV", "GeoJSON"], "MONTHLY", "die öffentlichen Ladesäulen mit Steckertypen und Leistung"),
    ("Baustellen und Straßensperrungen", ["TRAN"], ["Baustellen", "Straßen", "Verkehr"], ["GeoJSON", "XML"],
     "DAILY", "aktuelle Baustellen, Vollsperrungen und Umleitungen"),
    ("Verkehrsunfälle", ["TRAN", "JUST"], ["Unfälle", "Verkehrssicherheit"], ["CSV", "XLSX"], "ANNUAL",
     "polizeilich erfasste Verkehrsunfälle nach Unfallart"),
    ("Bevölkerung nach Altersgruppen", ["SOCI"], ["Bevölkerung", "Einwohner", "Statistik"], ["CSV", "XLSX"],
     "ANNUAL", "die Einwohnerzahlen nach Altersgruppen und Geschlecht"),
    ("Geburten und Sterbefälle", ["SOCI", "HEAL"], ["Bevölkerung", "Standesamt"], ["CSV", "ODS"], "ANNUAL",
     "Geburten, Sterbefälle und Eheschließungen"),
    ("Haushaltsplan", ["ECON", "GOVE"], ["Haushalt", "Finanzen"], ["CSV", "PDF", "XLSX"], "ANNUAL",
     "den Ergebnis- und Finanzhaushalt nach Produkten"),
    ("Jahresabschluss", ["ECON", "GOVE"], ["Haushalt", "Bilanz"], ["PDF", "XLSX"], "ANNUAL",
     "Bilanz, Ergebnisrechnung und Finanzrechnung"),
    ("Ergebnisse der Kommunalwahl", ["GOVE"], ["Wahlen", "Wahlergebnisse"], ["CSV", "JSON"], "IRREG",
     "die Stimmenanteile nach Wahlbezirken"),
    ("Ratsinformationen", ["GOVE"], ["Stadtrat", "Sitzungen"], ["XML", "API"], "WEEKLY",
     "Sitzungen, Tagesordnungen und Beschlüsse der Gremien"),
    ("Gewerbeanmeldungen", ["ECON"], ["Gewerbe", "Wirtschaft"], ["CSV"], "MONTHLY",
     "Gewerbeanmeldungen, -ummeldungen und -abmeldungen nach Branchen"),
    ("Übernachtungen im Tourismus", ["ECON", "EDUC"], ["Tourismus", "Übernachtungen"], ["CSV", "XLSX"], "MONTHLY",
     "Gästeankünfte und Übernachtungen in Beherbergungsbetrieben"),
    ("Wanderwege", ["EDUC", "ENVI"], ["Tourismus", "Wandern", "Freizeit"], ["GeoJSON", "GML", "KML"], "ANNUAL",
     "die Premiumwanderwege und Rundwanderwege mit Streckenverlauf"),
    ("Schulen", ["EDUC"], ["Bildung", "Schulen"], ["CSV", "GeoJSON"], "ANNUAL",
     "alle Grundschulen und weiterführenden Schulen mit Schülerzahlen"),
    ("Kindertagesstätten", ["EDUC", "SOCI"], ["Kita", "Kinderbetreuung", "Bildung"], ["CSV", "GeoJSON"], "ANNUAL",
     "die Kindertagesstätten mit Plätzen und Öffnungszeiten"),
    ("Sportstätten und Freibäder", ["EDUC"], ["Sport", "Freibad", "Freizeit"], ["CSV", "GeoJSON"], "IRREG",
     "Sporthallen, Sportplätze und Freibäder"),
    ("Spielplätze", ["SOCI", "EDUC"], ["Spielplatz", "Familie", "Freizeit"], ["GeoJSON", "CSV"], "IRREG",
     "die öffentlichen Spielplätze mit ihren Spielgeräten"),
    ("Bibliotheken und Museen", ["EDUC"], ["Kultur", "Museum", "Bibliothek"], ["CSV", "JSON"], "IRREG",
     "Standorte, Öffnungszeiten und Besucherzahlen"),
    ("Veranstaltungskalender", ["EDUC", "SOCI"], ["Veranstaltungen", "Kultur"], ["JSON", "API", "XML"], "DAILY",
     "Konzerte, Märkte, Feste und Ausstellungen"),
    ("Straßenbäume", ["ENVI"], ["Baumkataster", "Bäume", "Stadtgrün"], ["CSV", "GeoJSON", "SHP"], "ANNUAL",
     "das Baumkataster mit Art, Pflanzjahr und Kronendurchmesser"),
    ("Grünflächen und Parks", ["ENVI"], ["Stadtgrün", "Parks"], ["GeoJSON", "SHP"], "IRREG",
     "die öffentlichen Grünflächen, Parks und Friedhöfe"),
    ("Friedhöfe", ["SOCI"], ["Friedhof", "Bestattung"], ["CSV", "GeoJSON"], "IRREG",
     "die Friedhöfe mit Grabarten und Öffnungszeiten"),
    ("Trinkwasserqualität", ["HEAL", "ENVI"], ["Trinkwasser", "Wasserversorgung"], ["CSV", "PDF"], "QUARTERLY",
     "die Analysewerte des Trinkwassers nach Versorgungsgebieten"),
    ("Abfuhrtermine", ["ENVI", "SOCI"], ["Abfall", "Müllabfuhr"], ["CSV", "JSON", "API"], "ANNUAL",
     "die Abholtermine für Restmüll, Bioabfall, Papier und Gelbe Säcke"),
    ("Wertstoffhöfe und Glascontainer", ["ENVI"], ["Abfall", "Recycling", "Wertstoffhof"], ["CSV", "GeoJSON"],
     "IRREG", "die Standorte der Wertstoffhöfe und Altglascontainer"),
    ("Photovoltaik-Potenzial der Dachflächen", ["ENER", "ENVI"], ["Solar", "Photovoltaik", "Klimaschutz"],
     ["GeoJSON", "SHP"], "IRREG", "das Solarpotenzial der Dachflächen aus dem Solarkataster"),
    ("Energieverbrauch öffentlicher Gebäude", ["ENER"], ["Energie", "Klimaschutz"], ["CSV", "XLSX"], "ANNUAL",
     "Strom- und Wärmeverbrauch der kommunalen Liegenschaften"),
    ("Bebauungspläne", ["REGI", "GOVE"], ["Bauleitplanung", "Bebauungsplan"], ["PDF", "GML", "ZIP"], "IRREG",
     "die rechtskräftigen Bebauungspläne mit Geltungsbereich"),
    ("Kulturdenkmäler", ["EDUC", "REGI"], ["Denkmalschutz", "Denkmal"], ["CSV", "GeoJSON"], "IRREG",
     "die Kulturdenkmäler aus dem Denkmalverzeichnis"),
    ("Feuerwehreinsätze", ["JUST"], ["Feuerwehr", "Katastrophenschutz"], ["CSV"], "ANNUAL",
     "die Einsätze der Freiwilligen Feuerwehren nach Einsatzart"),
    ("Öffentliche Toiletten", ["SOCI", "HEAL"], ["Barrierefreiheit", "Toiletten"], ["CSV", "GeoJSON"], "IRREG",
     "öffentliche und barrierefreie Toiletten mit Öffnungszeiten"),
    ("WLAN-Hotspots", ["TECH"], ["WLAN", "Digitalisierung"], ["CSV", "GeoJSON"], "IRREG",
     "die kostenlosen öffentlichen WLAN-Zugangspunkte"),
]

DESCRIPTION_OPENINGS = [
    "Der Datensatz enthält {what} für {place} ({tenant}).",
    "{tenant} veröffentlicht hier {what} im Gebiet {place}.",
    "Diese Daten beschreiben {what}; erfasst wurde das Gebiet {place} im Jahr {year}.",
]
DESCRIPTION_DETAILS = [
    "Die Daten werden von der Verwaltung erhoben, geprüft und regelmäßig aktualisiert.",
    "Ältere Jahrgänge sind in der Dokumentation beschrieben; Änderungen der Erhebungsmethode sind vermerkt.",
    "Koordinaten liegen in WGS 84 vor. Fragen beantwortet das Open-Data-Team.",
    "Die Veröffentlichung erfolgt im Rahmen der Open-Data-Strategie des Südwest-Clusters.",
    "Personenbezogene Angaben wurden vor der Veröffentlichung entfernt oder aggregiert.",
]


def tenant_of(number):
    """The tenant a dataset number belongs to, following TENANT_SHARES (deterministic)."""
    slot = number % sum(TENANT_SHARES.values())
    for name, share in TENANT_SHARES.items():
        if slot < share:
            return name
        slot -= share
    raise AssertionError("unreachable")


def is_private(number):
    return number % 17 == 5  # about 6 %


def _box_inside(bbox, rng):
    """A rectangle of 2-15 % of the municipality's extent, somewhere inside it."""
    minx, miny, maxx, maxy = bbox
    width, height = (maxx - minx) * rng.uniform(0.15, 0.4), (maxy - miny) * rng.uniform(0.15, 0.4)
    x, y = rng.uniform(minx, maxx - width), rng.uniform(miny, maxy - height)
    ring = [[x, y], [x + width, y], [x + width, y + height], [x, y + height], [x, y]]
    return {"type": "Polygon", "coordinates": [[[round(a, 4), round(b, 4)] for a, b in ring]]}


def make_dataset(number, tenant):
    """Dataset number `number` of `tenant` (a dict with name, title, id, bbox as "minx,miny,maxx,maxy")."""
    rng = random.Random(number)
    title, themes, keywords, formats, frequency, what = TOPICS[rng.randrange(len(TOPICS))]
    place = rng.choice(PLACES[tenant["name"]])
    year = rng.randint(2012, 2026)
    name = f"{tenant['name']}-{number:05d}"
    text = {"what": what, "place": place, "tenant": tenant["title"], "year": year}
    notes = " ".join([rng.choice(DESCRIPTION_OPENINGS).format(**text),
                      *rng.sample(DESCRIPTION_DETAILS, rng.randint(1, 3))])
    dataset = {
        "name": name,
        "title": rng.choice([f"{title} {place}", f"{title} in {place} {year}", f"{title} – {tenant['title']} ({year})"]),
        "owner_org": tenant["id"],
        "private": is_private(number),
        "notes": notes,
        "theme": [EU_THEME + theme for theme in themes],
        "license_id": rng.choices([licence for licence, _ in LICENCES], [weight for _, weight in LICENCES])[0],
        "tag_string": ",".join(rng.sample(keywords, min(len(keywords), rng.randint(1, 3))) + [place]),
        "contact": [{"name": f"{tenant['title']}, Open-Data-Team", "email": "opendata@example.invalid"}],
        "temporal_coverage": [{"start": f"{year}-01-01", "end": f"{year}-12-31"}],
        "frequency": EU_FREQUENCY + frequency,
        "language": ["http://publications.europa.eu/resource/authority/language/DEU"],
        "resources": [
            {"url": f"https://daten.example.invalid/{name}/daten-{index}.{fmt.lower()}",
             "name": f"{title} {place} {year} ({fmt})", "format": fmt}
            for index, fmt in enumerate(rng.sample(formats, rng.randint(1, len(formats))))
        ],
    }
    if dataset["license_id"].rsplit("/", 2)[-2] in ("dl-by-de", "cc-by"):
        dataset["license_attribution_by_text"] = f"{tenant['title']} ({year})"
    if rng.random() < 0.6:  # the rest takes the municipality's extent (tenant defaults)
        bbox = [float(part) for part in tenant["bbox"].split(",")]
        dataset["spatial_coverage"] = [{"text": place, "geom": json.dumps(_box_inside(bbox, rng))}]
    return dataset


# --------------------------------------------------------------------------------------------------
# Tenants, users and the marker of the seeded data
# --------------------------------------------------------------------------------------------------

def sync_tenants(user):
    """Create the tenants' organisations from config/tenants.yaml with ckanext-tenant's own sync logic.

    Returns {name: organisation dict} of the tenants."""
    import ckan.plugins.toolkit as tk
    from ckanext.tenant import tenants as tenants_file

    path = tenants_file.tenants_file()
    try:
        tenants = tenants_file.load(path)
        tenants_file.validate(tenants, path)
    except tenants_file.TenantsFileError as error:
        raise CannotRun(f"the tenants file cannot be synchronised: {error}") from error
    tenants_file.sync(tenants)
    missing = set(TENANT_SHARES) - {tenant["name"] for tenant in tenants}
    if missing:
        raise CannotRun(f"config/tenants.yaml lacks the tenants {', '.join(sorted(missing))}")
    return {name: tk.get_action("organization_show")({"user": user}, {"id": name})
            for name in TENANT_SHARES}


def ensure_editors(tenants):
    """One editor per tenant (created if missing) and a fresh API token each: {tenant name: token}."""
    import ckan.plugins.toolkit as tk
    from ckan import model

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    tokens = {}
    for name in tenants:
        user_name = EDITOR_PREFIX + name
        if model.User.get(user_name) is None:
            tk.get_action("user_create")({"user": site_user, "ignore_auth": True}, {
                "name": user_name, "email": f"{user_name}@example.invalid",
                "password": os.urandom(12).hex() + "Aa1!"})
            tk.get_action("organization_member_create")({"user": site_user}, {
                "id": name, "username": user_name, "role": "editor"})
        tokens[name] = tk.get_action("api_token_create")({"user": site_user}, {
            "user": user_name, "name": "benchmark"})["token"]
    return tokens


def expected_marker(count):
    return json.dumps({"corpus_version": CORPUS_VERSION, "datasets": count}, sort_keys=True)


def seeded_data_matches(count):
    """Does the database hold exactly the data set a seeding of `count` datasets produces (for --reuse)?

    Returns (True, "") or (False, why not)."""
    from ckan import model
    from ckan.model.system_info import get_system_info

    marker = get_system_info(MARKER_KEY)
    if marker != expected_marker(count):
        return False, f"no data set of {count} datasets (version {CORPUS_VERSION}) recorded: {marker or 'none'}"
    in_database = model.Session.query(model.Package).filter_by(state="active").count()
    in_index = solr_count()
    if not in_database == in_index == count:
        return False, f"{in_database} datasets in the database, {in_index} in Solr, expected {count}"
    return True, ""


def count_private():
    from ckan import model

    return model.Session.query(model.Package).filter_by(state="active", private=True).count()


def record_marker(count):
    from ckan.model.system_info import set_system_info

    set_system_info(MARKER_KEY, expected_marker(count))


# --------------------------------------------------------------------------------------------------
# Seeding in several processes
# --------------------------------------------------------------------------------------------------

@dataclass
class SeedResult:
    datasets: int
    private: int
    processes: int
    seconds: float

    def as_dict(self):
        return {"datasets": self.datasets, "private": self.private, "processes": self.processes,
                "seconds": round(self.seconds, 1),
                "datasets_per_second": round(self.datasets / self.seconds, 1) if self.seconds else None}


_created = None   # multiprocessing.Value shared with the worker processes (set by _init_worker)
_stop = None      # multiprocessing.Event: a worker failed, the others stop too


def _init_worker(created, stop):
    global _created, _stop
    _created, _stop = created, stop


def _seed_slice(config_path, overrides, force, numbers, tenants, user):
    """Worker process: load CKAN and create the datasets `numbers` (a range)."""
    os.chdir(REPOSITORY_ROOT)
    conf, stack = load_configuration(config_path, overrides)
    stop_if_pytest_runs = make_pytest_guard(stack, force)
    app, _ = load_ckan(conf, stack)
    quiet_logging(False)
    # config/common.ini names datatables_view as a default view without loading its plugin: CKAN warns
    # about it for every resource; once (in the report) is enough.
    logging.getLogger("ckan.lib.datapreview").setLevel(logging.ERROR)
    import ckan.plugins.toolkit as tk

    with batched_solr_commits(), app._wsgi_app.test_request_context():
        for position, number in enumerate(numbers):
            if _stop.is_set():
                return position
            dataset = make_dataset(number, tenants[tenant_of(number)])
            _create_with_retry(tk, {"user": user}, dataset)
            with _created.get_lock():
                _created.value += 1
            if position % 25 == 24:
                stop_if_pytest_runs()
    return len(numbers)


def _create_with_retry(tk, context, dataset, attempts=5):
    """package_create; two processes creating the same new tag at once make one of them fail on the tag's
    unique name: roll back and try again (the tag exists by then)."""
    from sqlalchemy.exc import IntegrityError
    from ckan import model

    for attempt in range(attempts):
        try:
            tk.get_action("package_create")(dict(context, return_id_only=True), dict(dataset))
            return
        except IntegrityError:
            model.Session.rollback()
            model.Session.remove()
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
        except tk.ValidationError as error:
            raise CannotRun(f"package_create rejected generated dataset {dataset['name']}: "
                            f"{error.error_dict}") from None


def seed(config_path, overrides, force, count, tenants, user, processes):
    """Create `count` datasets in `processes` worker processes; one Solr commit at the end."""
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # each worker loads CKAN itself: no shared connections
    created, stop = context.Value("i", 0), context.Event()
    slices = [range(index, count, processes) for index in range(processes)]
    tenant_fields = {name: {"name": name, "id": org["id"], "title": org["title"], "bbox": org.get("bbox") or ""}
                     for name, org in tenants.items()}
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                             initargs=(created, stop)) as pool:
        futures = [pool.submit(_seed_slice, config_path, overrides, force, numbers, tenant_fields, user)
                   for numbers in slices]
        reported = 0
        while True:
            done, pending = wait(futures, timeout=10, return_when=FIRST_EXCEPTION)
            failed = [future for future in done if future.exception()]
            if failed:
                stop.set()
                error = failed[0].exception()
                raise error if isinstance(error, CannotRun) else CannotRun(
                    f"seeding failed: {type(error).__name__}: {error}")
            if created.value >= reported + max(1, count // 20) or not pending:
                reported = created.value
                elapsed = time.perf_counter() - started
                progress(f"  {reported}/{count} datasets ({elapsed:.0f} s, {reported / elapsed:.1f} datasets/s)")
            if not pending:
                break
    indexed = wait_for_solr(count)
    if indexed != count:
        raise CannotRun(f"created {count} datasets but Solr finds {indexed}")
    record_marker(count)
    private = sum(1 for number in range(count) if is_private(number))
    return SeedResult(count, private, processes, time.perf_counter() - started)
