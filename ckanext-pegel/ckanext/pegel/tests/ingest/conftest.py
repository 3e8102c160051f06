"""Fixtures of the ingest tests: a clean DataStore, series resources, the sensor sample messages."""
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan.tests import factories as ckan_factories

from ckanext.pegel import series
from ckanext.pegel.ingest import deadletter, store
from ckanext.suedwest.tests import factories

# Sample messages live outside the repository (like the DCAT-AP.de reference files); a relative path is
# taken from the repository root, where pytest runs.
SENSOR_FIXTURES_OPTION = "ckanext.pegel.sensor_fixtures_dir"
SENSOR_FIXTURES_DEFAULT = "../shared/fixtures/sensors"


@pytest.fixture(scope="session")
def sensor_fixtures_dir(pytestconfig):
    """The folder with the sample sensor messages (``ttn_v3/``, ``chirpstack_v4/``, ``sensorthings/``)."""
    path = Path(tk.config.get(SENSOR_FIXTURES_OPTION) or SENSOR_FIXTURES_DEFAULT)
    if not path.is_absolute():
        path = pytestconfig.rootpath / path
    if not (path / "ttn_v3").is_dir():
        pytest.fail(f"sensor sample messages not found in {path} (set {SENSOR_FIXTURES_OPTION})", pytrace=False)
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
