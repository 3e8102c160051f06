"""Fixtures of the ingest and CLI tests: a clean DataStore, series resources, the sensor sample messages,
ingest processes and MQTT publishers. ``conftest.py`` (ingest tests) and ``tests/test_cli.py`` import them."""
import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan.tests import factories as ckan_factories

from ckanext.pegel import series
from ckanext.pegel.ingest import deadletter, store
from ckanext.suedwest.tests import factories

# The sample messages live outside the repository (like the DCAT-AP.de reference files and the PEGELONLINE
# samples); a relative path is taken from the repository root, where pytest runs.
FIXTURES_VARIABLE = "SENSOR_FIXTURES"
FIXTURES_DEFAULT = "../shared/fixtures/sensors"


@pytest.fixture(scope="session")
def sensor_fixtures_dir(pytestconfig):
    """The folder with the sample sensor messages (``ttn_v3/``, ``chirpstack_v4/``, ``sensorthings/``)."""
    path = Path(os.environ.get(FIXTURES_VARIABLE) or FIXTURES_DEFAULT)
    if not path.is_absolute():
        path = pytestconfig.rootpath / path
    if not (path / "ttn_v3").is_dir():
        pytest.fail(f"sensor sample messages not found in {path} (set {FIXTURES_VARIABLE})", pytrace=False)
    return path


@pytest.fixture
def sensor_message(sensor_fixtures_dir):
    """Load one sample message: ``sensor_message("ttn_v3/uplink_01.json")`` -> (topic, payload dict)."""

    def load(name):
        sample = json.loads((sensor_fixtures_dir / name).read_text())
        return sample["topic"], sample["payload"]

    return load


@pytest.fixture
def clean_datastore(clean_db):
    """The test DataStore database without any table, and without the ingest's dead-letter schema."""
    with store.write_engine().begin() as connection:
        tables = connection.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        for (name,) in list(tables):
            connection.execute(sa.text(f'DROP TABLE "{name}" CASCADE'))
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {deadletter.SCHEMA} CASCADE"))


@pytest.fixture
def series_resource(clean_datastore):
    """Create a station dataset with a water-level series resource and its DataStore table; returns a
    function ``make(station=None) -> resource dict``."""
    sysadmin = ckan_factories.Sysadmin()
    organization = ckan_factories.Organization()

    def make(station=None, create_table=True):
        station = station or f"station-{uuid.uuid4().hex[:8]}"
        dataset = factories.Dataset(owner_org=organization["id"], user=sysadmin, resources=[{
            "url": "http://example.org/series", "name": "Wasserstand",
            series.STATION_FIELD: station, series.SERIES_FIELD: series.WATER_LEVEL}])
        resource = dataset["resources"][0]
        if create_table:
            series.ensure_series_table({"user": sysadmin["name"]}, resource["id"])
        return resource

    return make



@pytest.fixture
def read_series():
    """All rows of a series table through ``datastore_search`` (what the API shows), oldest first."""

    def read(resource_id):
        result = tk.get_action("datastore_search")(
            {"ignore_auth": True}, {"resource_id": resource_id, "sort": "time", "limit": 32000})
        return result["records"]

    return read


@pytest.fixture
def ingest_ini(ckan_ini_with, tmp_path):
    """Write a config for an ingest process: the test config plus a sensors file and ``options``
    (a unique client id, a short session expiry and short backoffs unless given)."""

    def write(sensors: str, topics: str, options: dict | None = None) -> Path:
        sensors_file = tmp_path / f"sensors-{uuid.uuid4().hex[:6]}.yaml"
        sensors_file.write_text(sensors)
        settings = {"ckanext.pegel.sensors_file": sensors_file, "ckanext.pegel.mqtt_topics": topics,
                    "ckanext.pegel.mqtt_client_id": f"test-ingest-{uuid.uuid4().hex[:8]}",
                    "ckanext.pegel.mqtt_session_expiry": 300, "ckanext.pegel.ingest_backoff_max_seconds": 2,
                    **(options or {})}
        ini = ckan_ini_with()
        head, loggers = ini.read_text().split("\n\n[loggers]", 1)
        lines = "\n".join(f"{key} = {value}" for key, value in settings.items())
        ini = ini.with_name(f"ingest-{uuid.uuid4().hex[:6]}.ini")
        ini.write_text(f"{head}\n{lines}\n\n[loggers]{loggers}")
        return ini

    return write


@pytest.fixture
def start_ingest(ckan_process, tmp_path):
    """Start ``ckan pegel ingest`` as a real process and wait until it has subscribed; returns
    (process, log path)."""

    def start(ini, name="ingest", *options):
        log = tmp_path / f"{name}.log"
        process = ckan_process(ini, "pegel", "ingest", *options, log=log)
        wait_for_log(log, "subscribed to", process)
        return process, log

    return start


def wait_for_log(log: Path, text: str, process=None, count: int = 1, timeout: float = 60) -> None:
    """Wait until ``text`` appears ``count`` times in a process log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace") if log.exists() else ""
        if content.count(text) >= count:
            return
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended ({process.returncode}) before logging {text!r}:\n{content[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"{text!r} not logged {count} times within {timeout} s:\n{content[-3000:]}")


@pytest.fixture
def publisher():
    """Connected paho publishers (QoS 1), stopped after the test: ``publisher(url) -> client``."""
    clients = []

    def connect(url):
        url = urlparse(url)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
        # Message ids the broker acknowledged (PUBACK), also for messages queued while it was away.
        client.acknowledged = set()
        client.on_publish = lambda client, userdata, mid, *args: client.acknowledged.add(mid)
        client.reconnect_delay_set(1, 2)
        client.connect(url.hostname, url.port or 1883, keepalive=30)
        client.loop_start()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.loop_stop()
        client.disconnect()


@pytest.fixture
def wait_for_rows(read_series):
    """Wait until a series holds ``count`` rows (what the API shows); returns them."""

    def wait(resource_id, count, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            rows = read_series(resource_id)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)

    return wait


@pytest.fixture
def dead_letters():
    """The dead letters stored so far (oldest first), read as the database's write user."""

    def read():
        engine = store.write_engine()
        deadletter.ensure_table(engine)
        return list(reversed(deadletter.recent(engine, limit=1000)))

    return read
