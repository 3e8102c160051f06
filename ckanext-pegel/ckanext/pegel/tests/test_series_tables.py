"""Series tables without the DataStore's full-text indexes: created slim, old ones slimmed, still readable."""
import datetime as dt

import pytest
import sqlalchemy as sa

import ckan.plugins.toolkit as tk

from ckanext.pegel import series
from ckanext.pegel.ingest import pipeline, store
from ckanext.pegel.ingest.mapping import Device
from ckanext.pegel.tests.ingest.fixtures import (  # noqa: F401 (fixtures)
    clean_datastore,
    read_series,
    series_resource,
)

pytestmark = pytest.mark.usefixtures("clean_datastore", "with_request_context")

UTC = dt.timezone.utc


def indexes(resource_id):
    """{index name: definition} of a series table."""
    with store.write_engine().connect() as connection:
        return dict(connection.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                                       {"t": resource_id}).fetchall())


def fulltext_indexes(resource_id):
    return sorted(name for name, definition in indexes(resource_id).items()
                  if "to_tsvector" in definition or "_full_text" in definition)


def stock_table(resource_id):
    """The table as plain ``datastore_create`` makes it (what ensure_series_table did before)."""
    tk.get_action("datastore_create")({"ignore_auth": True}, {
        "resource_id": resource_id, "fields": series.SERIES_FIELDS, "primary_key": series.SERIES_PRIMARY_KEY,
        "force": True})


def readings(*rows):
    return [{"time": dt.datetime(2026, 3, 1, 6, minute, tzinfo=UTC), "value": value, "unit": "cm",
             "quality": quality, "source": "ttn"} for minute, value, quality in rows]


def test_a_new_series_table_has_no_fulltext_index_but_keeps_its_unique_time(series_resource):
    resource = series_resource()

    assert fulltext_indexes(resource["id"]) == []
    definitions = indexes(resource["id"]).values()
    assert any(d.startswith("CREATE UNIQUE INDEX") and d.endswith("(\"time\")") for d in definitions)
    store.write_series(resource["id"], readings((0, 181.3, "ok")))
    assert store.write_series(resource["id"], readings((0, 181.3, "ok"))) == 0  # still deduplicated


def test_datastore_reads_work_without_the_indexes_also_full_text_search(series_resource, read_series):
    resource = series_resource()
    store.write_series(resource["id"], readings((0, 181.3, "ok"), (15, 402.5, "suspect"), (30, 190.0, "ok")))
    search = tk.get_action("datastore_search")

    assert [r["value"] for r in read_series(resource["id"])] == [181.3, 402.5, 190.0]
    found = search({"ignore_auth": True}, {"resource_id": resource["id"], "q": "suspect"})
    assert [(r["value"], r["quality"]) for r in found["records"]] == [(402.5, "suspect")]
    by_column = search({"ignore_auth": True}, {"resource_id": resource["id"], "q": {"quality": "suspect"}})
    assert [r["value"] for r in by_column["records"]] == [402.5]
    filtered = search({"ignore_auth": True}, {"resource_id": resource["id"], "filters": {"quality": "ok"},
                                              "sort": "time desc"})
    assert [r["value"] for r in filtered["records"]] == [190.0, 181.3]


@pytest.mark.ckan_config("ckan.datastore.sqlsearch.enabled", "true")
@pytest.mark.usefixtures("with_plugins")
def test_datastore_search_sql_reads_a_series_table(series_resource):
    resource = series_resource()
    store.write_series(resource["id"], readings((0, 181.3, "ok"), (15, 402.5, "suspect")))

    sql = tk.get_action("datastore_search_sql")(
        {"ignore_auth": True}, {"sql": f'SELECT max(value) AS top FROM "{resource["id"]}" WHERE quality = \'ok\''})
    assert sql["records"] == [{"top": 181.3}]


def test_an_existing_table_is_slimmed_once_and_keeps_its_readings(series_resource, read_series):
    resource = series_resource(create_table=False)
    stock_table(resource["id"])
    store.write_series(resource["id"], readings((0, 181.3, "ok")))
    assert len(fulltext_indexes(resource["id"])) == 4  # _full_text, unit, quality, source

    series.ensure_series_table({"ignore_auth": True}, resource["id"])

    assert fulltext_indexes(resource["id"]) == []
    assert [r["value"] for r in read_series(resource["id"])] == [181.3]
    # Again: nothing rebuilt and dropped (datastore_create would rebuild the indexes over every reading).
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    sa.event.listen(store.write_engine(), "before_cursor_execute", listener)
    try:
        series.ensure_series_table({"ignore_auth": True}, resource["id"])
    finally:
        sa.event.remove(store.write_engine(), "before_cursor_execute", listener)
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "DROP", "ALTER"))]
    assert series.drop_fulltext_indexes(resource["id"]) == 0


def test_ensure_series_table_completes_a_table_of_an_older_layout(series_resource):
    resource = series_resource(create_table=False)
    tk.get_action("datastore_create")({"ignore_auth": True}, {
        "resource_id": resource["id"], "fields": series.SERIES_FIELDS[:2], "primary_key": ["time"],
        "force": True})

    series.ensure_series_table({"ignore_auth": True}, resource["id"])

    assert store.write_series(resource["id"], readings((0, 181.3, "ok"))) == 1
    assert fulltext_indexes(resource["id"]) == []


def test_ensure_series_table_still_checks_permissions_on_an_existing_table(series_resource):
    from ckan.tests import factories as ckan_factories

    resource = series_resource()
    stranger = ckan_factories.User()

    with pytest.raises(tk.NotAuthorized):
        series.ensure_series_table({"user": stranger["name"]}, resource["id"])


def test_the_ingest_slims_the_tables_it_writes_to_when_it_starts(series_resource):
    resource = series_resource(create_table=False)
    stock_table(resource["id"])
    device = Device(device="gauge-1", adapter="json", station=None, resource_id=resource["id"], measures="level",
                    field="level", field_unit="cm", mount_height_mm=None, unit="cm", plausible=None, line=1)

    assert pipeline.Resolver(store.write_engine()).resolve(device) == (resource["id"], None)
    assert fulltext_indexes(resource["id"]) == []


def test_the_ingest_leaves_the_indexes_when_told_to(series_resource):
    resource = series_resource(create_table=False)
    stock_table(resource["id"])
    device = Device(device="gauge-1", adapter="json", station=None, resource_id=resource["id"], measures="level",
                    field="level", field_unit="cm", mount_height_mm=None, unit="cm", plausible=None, line=1)

    with_config = pipeline.Resolver(store.write_engine())
    assert with_config.slim is True  # ckanext.pegel.ingest_slim_series_tables defaults to true
    assert pipeline.Resolver(store.write_engine(), slim=False).resolve(device) == (resource["id"], None)
    assert len(fulltext_indexes(resource["id"])) == 4


def test_a_table_held_by_a_reader_is_left_for_later_without_waiting_long(series_resource):
    import time

    resource = series_resource(create_table=False)
    stock_table(resource["id"])
    with store.write_engine().connect() as reader:
        transaction = reader.begin()  # an open transaction that has read the table
        reader.execute(sa.text(f'SELECT count(*) FROM "{resource["id"]}"'))
        started = time.monotonic()
        assert series.drop_fulltext_indexes(resource["id"], lock_timeout_ms=300) == 0
        assert time.monotonic() - started < 5
        transaction.rollback()

    assert series.drop_fulltext_indexes(resource["id"]) == 4
    assert fulltext_indexes(resource["id"]) == []
