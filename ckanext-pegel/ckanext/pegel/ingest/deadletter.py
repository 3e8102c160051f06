"""Dead letters: messages the ingest could not turn into a reading, kept with the reason.

They live in a plain table ``pegel_ingest.dead_letter`` of the DataStore database, in a schema of its
own: the DataStore's read-only user is granted SELECT on every table of the ``public`` schema (which
``datastore_search_sql`` exposes), but gets nothing here, and the table is no CKAN resource. Only the
write user (the ingest, ``ckan pegel dead-letters``) reads it.

Data minimisation: before storing, radio metadata (gateway ids and locations, RSSI/SNR, radio settings,
correlation ids; see ``RADIO_KEYS``) is removed from JSON payloads, at any depth. A payload that is not a
JSON object cannot be cleaned and is kept as text, cut to ``PAYLOAD_MAX_CHARS`` like every payload.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

SCHEMA = "pegel_ingest"
TABLE = f"{SCHEMA}.dead_letter"
PAYLOAD_MAX_CHARS = 4096
RADIO_KEYS = frozenset({
    "rx_metadata", "rxInfo", "txInfo", "settings", "gateway_ids", "gatewayId", "gateway_id", "locations",
    "location", "network_ids", "correlation_ids", "uplink_token", "rssi", "channel_rssi", "snr", "devAddr",
    "dev_addr", "session_key_id", "context",
})


@dataclass(frozen=True)
class DeadLetter:
    """A message that did not become a reading. ``size``: bytes of the message as received, when
    ``payload`` holds only its beginning."""
    topic: str
    reason: str
    payload: bytes
    received_at: dt.datetime
    size: int | None = None


def ensure_table(engine: sa.engine.Engine) -> None:
    """Create the schema and table if missing (idempotent); no rights for anyone but the owner."""
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        connection.execute(sa.text(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC"))
        connection.execute(sa.text(f"""
            CREATE TABLE IF NOT EXISTS {TABLE} (
                id bigserial PRIMARY KEY,
                received_at timestamptz NOT NULL,
                topic text NOT NULL,
                reason text NOT NULL,
                payload text NOT NULL,
                payload_bytes integer NOT NULL,
                truncated boolean NOT NULL
            )"""))
        connection.execute(sa.text(
            f"CREATE INDEX IF NOT EXISTS dead_letter_received_at ON {TABLE} (received_at)"))


def clean_text(text: str) -> str:
    """PostgreSQL text cannot hold NUL characters: replace them."""
    return text.replace("\x00", "\ufffd")


def stored_payload(payload: bytes) -> tuple[str, bool]:
    """The payload as it is kept: radio metadata removed when it is JSON, NUL-free text, at most
    ``PAYLOAD_MAX_CHARS`` characters. Returns (text, truncated)."""
    text = payload.decode("utf-8", errors="replace")
    if len(payload) <= 4 * 1024 * 1024:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            try:
                text = json.dumps(_without_radio_metadata(document), ensure_ascii=False)
            except (RecursionError, ValueError):
                text = ""  # too deeply nested to clean: keep nothing rather than radio metadata
    text = clean_text(text)
    if len(text) > PAYLOAD_MAX_CHARS:
        return text[:PAYLOAD_MAX_CHARS], True
    return text, False


def _without_radio_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_radio_metadata(item) for key, item in value.items() if key not in RADIO_KEYS}
    if isinstance(value, list):
        return [_without_radio_metadata(item) for item in value]
    return value


def insert(connection: sa.engine.Connection, letters: Iterable[DeadLetter]) -> int:
    """Store dead letters in the caller's transaction with one statement. Returns how many."""
    rows = []
    for letter in letters:
        text, truncated = stored_payload(letter.payload)
        size = letter.size if letter.size is not None else len(letter.payload)
        rows.append((letter.received_at, clean_text(letter.topic), clean_text(letter.reason), text, size,
                     truncated or size > len(letter.payload)))
    if not rows:
        return 0
    columns = ("received_at", "topic", "reason", "payload", "payload_bytes", "truncated")
    types = ("timestamptz", "text", "text", "text", "integer", "boolean")
    arrays = ", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(columns, types))
    connection.execute(
        sa.text(f"INSERT INTO {TABLE} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"),
        {column: [row[i] for row in rows] for i, column in enumerate(columns)})
    return len(rows)


def recent(engine: sa.engine.Engine, limit: int = 50, topic_prefix: str | None = None,
           oldest_first: bool = False) -> list[dict]:
    """The newest dead letters first, or the oldest with ``oldest_first`` (optionally only those whose topic
    starts with ``topic_prefix``)."""
    where, params = "", {"limit": limit}
    if topic_prefix:
        where, params["prefix"] = "WHERE starts_with(topic, :prefix)", topic_prefix
    with engine.connect() as connection:
        result = connection.execute(sa.text(
            f"SELECT id, received_at, topic, reason, payload, payload_bytes, truncated FROM {TABLE} "
            f"{where} ORDER BY id {'ASC' if oldest_first else 'DESC'} LIMIT :limit"), params)
        return [dict(row._mapping) for row in result]


def delete(connection: sa.engine.Connection, ids: Iterable[int]) -> int:
    """Remove dead letters (after a successful replay) in the caller's transaction."""
    ids = list(ids)
    if not ids:
        return 0
    return connection.execute(sa.text(f"DELETE FROM {TABLE} WHERE id = ANY(:ids)"), {"ids": ids}).rowcount


def purge(engine: sa.engine.Engine, days: int) -> int:
    """Delete dead letters received more than ``days`` days ago (0 keeps them all). Returns how many."""
    if days <= 0:
        return 0
    with engine.begin() as connection:
        return connection.execute(sa.text(f"DELETE FROM {TABLE} WHERE received_at < now() - make_interval(days => :days)"),
                                  {"days": days}).rowcount
