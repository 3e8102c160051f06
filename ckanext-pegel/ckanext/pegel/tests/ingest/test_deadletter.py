"""Dead letters: kept privately, without radio metadata, bounded in size and age."""
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from ckanext.pegel.ingest import deadletter, store
from ckanext.pegel.ingest.deadletter import DeadLetter

NOW = dt.datetime.now(dt.timezone.utc)


def test_radio_metadata_is_removed_at_any_depth(sensor_message):
    topic, uplink = sensor_message("chirpstack_v4/event_up_01.json")
    text, truncated = deadletter.stored_payload(json.dumps(uplink).encode())
    kept = json.loads(text)
    assert not truncated
    assert kept["object"] == {"battery": 98, "distance": 1642}
    assert kept["deviceInfo"]["devEui"] == "24e124713c251010"
    for radio in ("rxInfo", "txInfo", "devAddr", "0016c001ff1a2b3c", "rssi", "49.5279"):
        assert radio not in text


def test_payloads_are_cut_and_freed_of_nul_characters():
    text, truncated = deadletter.stored_payload(b"\x00" + b"a" * 10_000)
    assert truncated and len(text) == deadletter.PAYLOAD_MAX_CHARS and text[0] == "\ufffd"
    text, _ = deadletter.stored_payload(b'{"a": "\\u0000", "b": "\x00"}')
    assert "\x00" not in text and json.loads(text)["a"] == "\x00"  # kept as the JSON escape


@pytest.mark.usefixtures("clean_datastore")
def test_the_table_is_out_of_reach_of_the_datastore_read_user():
    from ckanext.datastore.backend.postgres import get_read_engine

    engine = store.write_engine()
    deadletter.ensure_table(engine)
    with engine.begin() as connection:
        deadletter.insert(connection, [DeadLetter("t", "reason", b"{}", NOW)])
    with get_read_engine().connect() as connection, pytest.raises(sa.exc.ProgrammingError,
                                                                  match="permission denied for schema"):
        connection.execute(sa.text(f"SELECT * FROM {deadletter.TABLE}"))


@pytest.mark.usefixtures("clean_datastore")
def test_purge_deletes_only_letters_older_than_the_retention():
    engine = store.write_engine()
    deadletter.ensure_table(engine)
    with engine.begin() as connection:
        deadletter.insert(connection, [DeadLetter("old", "r", b"{}", NOW - dt.timedelta(days=31)),
                                       DeadLetter("new", "r", b"{}", NOW - dt.timedelta(days=29))])
    assert deadletter.purge(engine, 0) == 0
    assert deadletter.purge(engine, 30) == 1
    assert [letter["topic"] for letter in deadletter.recent(engine)] == ["new"]
