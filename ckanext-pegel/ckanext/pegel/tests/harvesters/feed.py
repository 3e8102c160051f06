"""A PEGELONLINE-like server for tests, and running PEGELONLINE harvests through ckanext-harvest's stages.

The server answers from a folder (``stations.json``, ``stations/<uuid>/W/currentmeasurement.json`` ...)
like a static mirror, i.e. it ignores the query string, and can be told to fail on a path: an HTTP
status, a body that is not JSON, or an answer slower than the client waits. It records every request.
"""
from __future__ import annotations

import copy
import http.server
import json
import os
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers
from ckanext.harvest.model import HarvestJob
from ckanext.harvest.tests.lib import run_harvest_job

from ckanext.tenant import tenants

# The samples live outside the repository (like the DCAT-AP.de reference files); a relative path is taken
# from the repository root, where pytest runs.
FIXTURES_VARIABLE = "PEGELONLINE_FIXTURES"
FIXTURES_DEFAULT = "../shared/fixtures/pegelonline"
# 25 stations on Rhein, Mosel, Saar and Lahn, with timeseries and current measurements
REGION = "stations_rhein-mosel-saar-lahn_includeTimeseries_includeCurrentMeasurement.json"
# All 605 stations of 2014, without timeseries
FULL = "stations_2014-05-01_full_real.json"
KOBLENZ = "4c7d796a-39f2-4f26-97a9-3aad01713e29"
KOBLENZ_STATION = "station_KOBLENZ_includeTimeseries_includeCurrentMeasurement_includeCharacteristicValues.json"
HARVESTER = "pegelonline_harvester"


class Feed:
    def __init__(self, directory: Path):
        self.directory = directory
        self.failures: dict[str, dict] = {}
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"feed": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/rest-api/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # What the server holds

    def stations(self) -> list:
        return json.loads((self.directory / "stations.json").read_text(encoding="utf-8"))

    def set_stations(self, stations: list) -> None:
        (self.directory / "stations.json").write_text(json.dumps(stations, ensure_ascii=False), encoding="utf-8")

    def edit_station(self, uuid: str, change) -> None:
        stations = self.stations()
        for station in stations:
            if station.get("uuid") == uuid:
                change(station)
        self.set_stations(stations)

    def fail(self, path="/stations.json", status=None, body=None, delay=None) -> None:
        """Answer ``path`` with ``status`` (and ``body``), or wait ``delay`` seconds first."""
        self.failures[path] = {"status": status, "body": body, "delay": delay}

    def heal(self) -> None:
        self.failures.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    feed: Feed

    def do_GET(self):
        self.feed.requests.append(self.path)
        path = urlsplit(self.path).path.removeprefix("/rest-api/v2")
        failure = self.feed.failures.get(path)
        if failure and failure["delay"]:
            time.sleep(failure["delay"])
        if failure and failure["status"]:
            return self._answer(failure["status"], failure["body"] or b"Internal Server Error")
        if failure and failure["body"] is not None:
            return self._answer(200, failure["body"])
        file = (self.feed.directory / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.feed.directory.resolve()) or not file.is_file():
            return self._answer(404, b'{"status": 404, "message": "not found"}')
        return self._answer(200, file.read_bytes())

    def _answer(self, status, body):
        body = body.encode() if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (timeout tests)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def pegelonline_fixtures(pytestconfig):
    """The folder with the PEGELONLINE samples (outside the repository, like the reference files)."""
    path = Path(os.environ.get(FIXTURES_VARIABLE) or FIXTURES_DEFAULT)
    if not path.is_absolute():
        path = pytestconfig.rootpath / path
    if not (path / REGION).is_file():
        pytest.fail(f"PEGELONLINE samples not found in {path} (set {FIXTURES_VARIABLE})", pytrace=False)
    return path


@pytest.fixture
def feed(pegelonline_fixtures, tmp_path):
    """A server with the 25 stations of Rhein, Mosel, Saar and Lahn as its ``stations.json``."""
    shutil.copy(pegelonline_fixtures / REGION, tmp_path / "stations.json")
    server = Feed(tmp_path)
    yield server
    server.close()


@pytest.fixture
def municipalities():
    """The six municipalities of config/tenants.yaml as organisations (with their areas and geocoding)."""
    path = Path(tk.config["__file__"]).parent / "config" / "tenants.yaml"
    return {tenant["name"]: factories.Organization(**tenant) for tenant in tenants.load(path)}


def create_source(url, config=None, owner_org=None, name="pegelonline"):
    """A PEGELONLINE harvest source; it belongs to ``owner_org`` or a new organisation (CKAN wants one)."""
    sysadmin = factories.Sysadmin()
    owner_org = owner_org or factories.Organization()["id"]
    return helpers.call_action("harvest_source_create", {"user": sysadmin["name"]}, name=name, title="PEGELONLINE",
                               url=url, source_type="pegelonline", owner_org=owner_org,
                               config=json.dumps(config) if config is not None else "")


def run(source):
    """One harvest job of the source, gather, fetch and import through ckanext-harvest's stages (in
    process, without the queues). Returns the finished job (``harvest_job_show``) and the objects'
    results by station UUID."""
    context = {"ignore_auth": True}
    job = helpers.call_action("harvest_job_create", context, source_id=source["id"], run=False)
    results = run_harvest_job(HarvestJob.get(job["id"]), plugins.get_plugin(HARVESTER))
    return helpers.call_action("harvest_job_show", context, id=job["id"]), results


def gather_errors(job_id):
    report = helpers.call_action("harvest_job_report", {"ignore_auth": True}, id=job_id)
    return [error["message"] for error in report["gather_errors"]]


def object_errors(results):
    return {guid: [error.message for error in result["errors"]] for guid, result in results.items()
            if result["errors"]}


def datasets(**search):
    """The datasets of all (active) stations, by station UUID, as package_show returns them."""
    found = helpers.call_action("package_search", q="*:*", rows=1000, **search)["results"]
    return {dataset["identifier"]: helpers.call_action("package_show", id=dataset["id"]) for dataset in found}


def copy_of(records):
    return copy.deepcopy(records)
