"""The shared batch writer against the real DataStore database."""
import datetime as dt

import pytest
import sqlalchemy as sa

from ckanext.pegel.ingest import store

UTC = dt.timezone.utc
CET = dt.timezone(dt.timedelta(hours=1))


def reading(minute, value, **extra):
    return {"time": dt.datetime(2026, 1, 14, 6, minute, tzinfo=UTC), "value": value, "unit": "cm",
            "quality": "ok", "source": "ttn", **extra}


def test_write_series_stores_a_batch_in_utc_and_skips_readings_already_stored(series_resource, read_series):
    resource = series_resource()
    first = [reading(0, 181.3), reading(15, 198.5)]
    assert store.write_series(resource["id"], first) == 2

    # Redelivered readings (same instant, here given in CET) and a repeat inside the batch count once.
    again = [{**reading(0, 999.0), "time": dt.datetime(2026, 1, 14, 7, 0, tzinfo=CET)},
             reading(30, 219.4), reading(30, 219.4)]
    assert store.write_series(resource["id"], again) == 1

    rows = read_series(resource["id"])
    assert [(r["time"], r["value"], r["unit"], r["quality"], r["source"]) for r in rows] == [
        ("2026-01-14T06:00:00+00:00", 181.3, "cm", "ok", "ttn"),
        ("2026-01-14T06:15:00+00:00", 198.5, "cm", "ok", "ttn"),
        ("2026-01-14T06:30:00+00:00", 219.4, "cm", "ok", "ttn"),
    ]


def test_one_batch_is_one_insert_statement(series_resource):
    resource = series_resource()
    statements = []
    engine = store.write_engine()
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        store.write_series(resource["id"], [reading(minute, minute / 2) for minute in range(60)])
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1


@pytest.mark.parametrize("row, message", [
    ({"time": dt.datetime(2026, 1, 14, 6, 0), "value": 1.0}, "time zone"),
    ({"time": "2026-01-14T06:00:00Z", "value": 1.0}, "datetime"),
    ({"time": dt.datetime(2026, 1, 14, tzinfo=UTC), "value": float("nan")}, "finite"),
    ({"time": dt.datetime(2026, 1, 14, tzinfo=UTC), "value": True}, "finite"),
    ({"time": dt.datetime(2026, 1, 14, tzinfo=UTC), "value": 1.0, "unit": "c\x00m"}, "NUL"),
    ({"time": dt.datetime(2026, 1, 14, tzinfo=UTC), "value": 1.0, "rssi": -97}, "unknown columns: rssi"),
])
def test_an_invalid_row_writes_nothing(series_resource, read_series, row, message):
    resource = series_resource()
    with pytest.raises(ValueError, match=message):
        store.write_series(resource["id"], [reading(0, 1.0), row])
    assert read_series(resource["id"]) == []


def test_a_missing_table_fails_only_its_own_series(series_resource, read_series):
    good, gone = series_resource(), series_resource(create_table=False)
    with store.write_engine().begin() as connection:
        result = store.write_batches(connection, {gone["id"]: [reading(0, 1.0)], good["id"]: [reading(0, 2.0)]})
    assert result.inserted == {good["id"]: 1}
    assert "does not exist" in result.failed[gone["id"]]
    assert [r["value"] for r in read_series(good["id"])] == [2.0]


def test_database_down_raises_store_unavailable():
    engine = sa.create_engine("postgresql://ckan_test:ckan_test@127.0.0.1:1/datastore_test")
    with pytest.raises(store.StoreUnavailable):
        store.write_series("no-matter", [reading(0, 1.0)], engine=engine)


def test_text_with_array_syntax_characters_arrives_unchanged(series_resource, read_series):
    resource = series_resource()
    quality = 'suspect, "dry" {sensor} \\ NULL'
    store.write_series(resource["id"], [reading(0, -12.5, quality=quality, unit="cm"),
                                        reading(1, 1e-7, quality=None)])
    rows = read_series(resource["id"])
    assert [(r["value"], r["quality"]) for r in rows] == [(-12.5, quality), (1e-7, None)]
