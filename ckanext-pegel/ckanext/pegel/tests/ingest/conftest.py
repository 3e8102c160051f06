"""The ingest tests' fixtures (defined in ``fixtures.py``, shared with ``tests/test_cli.py``)."""
from ckanext.pegel.tests.ingest.fixtures import (  # noqa: F401
    sensor_fixtures_dir,
    sensor_message,
    clean_datastore,
    series_resource,
    read_series,
    ingest_ini,
    start_ingest,
    publisher,
    wait_for_rows,
    dead_letters,
)
