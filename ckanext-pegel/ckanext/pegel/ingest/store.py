"""Batched, deduplicated writes into the series tables (one DataStore table per station).

Shared by the MQTT ingest worker and the PEGELONLINE poller: ``write_batches`` inside ``transaction()``,
or ``write_series`` for a single series. A batch of a series is written with ONE
statement (``INSERT ... SELECT FROM unnest(...) ON CONFLICT (time) DO NOTHING``) through the DataStore
write engine: the stock ``datastore_upsert`` runs one statement per record (method "upsert") or fails on
the first duplicate (method "insert"), and a reading delivered twice must be stored once.

Rows are dicts with the ids of ``series.SERIES_FIELDS``: ``time`` (timezone-aware datetime), ``value``
(finite number), ``unit``, ``quality`` and ``source`` (strings), or the tuples ``normalise_row`` made of
them (a caller that checked its rows already need not have them checked twice).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ckanext.pegel.series import SERIES_FIELDS, SERIES_PRIMARY_KEY

log = logging.getLogger(__name__)

COLUMNS = [f["id"] for f in SERIES_FIELDS]
_TEXT_COLUMNS = [f["id"] for f in SERIES_FIELDS if f["type"] == "text"]
# Guard against a hanging statement (locks, an overloaded server) blocking a worker for good.
STATEMENT_TIMEOUT_MS = 60_000


class StoreUnavailable(Exception):
    """The DataStore database cannot be reached or the connection broke: nothing of the batch was
    committed; buffer the rows and try again later."""


@dataclass
class BatchResult:
    """Outcome of one committed batch: new rows per resource (duplicates not counted) and, per resource
    whose rows could not be written at all (table missing or of another layout), the reason."""
    inserted: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total_inserted(self) -> int:
        return sum(self.inserted.values())


def write_engine() -> sa.engine.Engine:
    """The DataStore write engine (``ckan.datastore.write_url``), shared with the datastore plugin."""
    from ckanext.datastore.backend.postgres import get_write_engine

    return get_write_engine()


def normalise_row(row: Mapping[str, Any]) -> tuple:
    """Check one reading and return its column values in ``COLUMNS`` order, time in UTC.

    Raises ``ValueError`` naming the problem: a naive or missing time, a value that is not a finite
    number, a text column that is not a string or holds a NUL character (PostgreSQL rejects those).
    """
    time = row.get("time")
    if not isinstance(time, dt.datetime):
        raise ValueError(f"time must be a datetime, not {type(time).__name__}")
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("time must carry a time zone")
    value = row.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"value must be a finite number, not {value!r}")
    values = {"time": time.astimezone(dt.timezone.utc), "value": float(value)}
    for column in _TEXT_COLUMNS:
        text = row.get(column)
        if text is not None and (not isinstance(text, str) or "\x00" in text):
            raise ValueError(f"{column} must be a string without NUL characters")
        values[column] = text
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns: {', '.join(sorted(unknown))}")
    return tuple(values[column] for column in COLUMNS)


def _insert_statement(resource_id: str) -> sa.sql.elements.TextClause:
    from ckanext.datastore.backend.postgres import identifier

    types = {f["id"]: f["type"] for f in SERIES_FIELDS}
    columns = ", ".join(identifier(c) for c in COLUMNS)
    arrays = ", ".join(f"CAST(:{c} AS {types[c]}[])" for c in COLUMNS)
    key = ", ".join(identifier(c) for c in SERIES_PRIMARY_KEY)
    return sa.text(f"INSERT INTO {identifier(resource_id)} ({columns}) "
                   f"SELECT * FROM unnest({arrays}) ON CONFLICT ({key}) DO NOTHING")


def insert_rows(connection: sa.engine.Connection, resource_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert readings into the series table of ``resource_id`` with one statement; readings whose time
    is already stored (or repeated within ``rows``) are skipped. Runs in the caller's transaction.
    Returns the number of new rows."""
    values = [row if isinstance(row, tuple) else normalise_row(row) for row in rows]
    if not values:
        return 0
    # Each column travels as ONE array literal ('{...}'): psycopg2 would expand a Python list into an
    # ARRAY[...] expression with a cast per element, which costs more to build and to parse.
    params = {column: _array_literal(v[i] for v in values) for i, column in enumerate(COLUMNS)}
    return connection.execute(_insert_statement(resource_id), params).rowcount


def _array_literal(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of quoted elements (NULL for None)."""
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
            continue
        text = value.isoformat() if isinstance(value, dt.datetime) else value if isinstance(value, str) else repr(value)
        items.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean "database not reachable right now" (retry) rather than "this
    statement cannot succeed" (missing table, wrong layout)."""
    return isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


def write_batches(connection: sa.engine.Connection, batches: Mapping[str, Sequence[Mapping[str, Any]]]
                  ) -> BatchResult:
    """Write several series in the caller's transaction, one statement per series.

    Each series runs in a savepoint: a series whose table is missing or has another layout is reported
    in ``BatchResult.failed`` and does not stop the others. Connection problems raise
    ``StoreUnavailable`` (the caller's transaction is then lost as a whole)."""
    result = BatchResult()
    try:
        connection.execute(sa.text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        for resource_id, rows in batches.items():
            savepoint = connection.begin_nested()
            try:
                result.inserted[resource_id] = insert_rows(connection, resource_id, rows)
                savepoint.commit()
            except sa_exc.DBAPIError as error:
                if is_unavailable(error):
                    raise
                savepoint.rollback()
                result.failed[resource_id] = error_summary(error)
                log.warning("series %s: %d readings not written: %s", resource_id, len(rows),
                            result.failed[resource_id])
    except sa_exc.DBAPIError as error:
        if is_unavailable(error):
            raise StoreUnavailable(error_summary(error)) from error
        raise
    return result


@contextlib.contextmanager
def transaction(engine: sa.engine.Engine | None = None) -> Iterator[sa.engine.Connection]:
    """A transaction on the DataStore write engine (committed when the block ends) in which losing the
    database, also while connecting or committing, raises ``StoreUnavailable``::

        with store.transaction() as connection:
            result = store.write_batches(connection, batches)
    """
    try:
        with (engine or write_engine()).begin() as connection:
            yield connection
    except sa_exc.DBAPIError as error:
        if is_unavailable(error):
            raise StoreUnavailable(error_summary(error)) from error
        raise


def write_series(resource_id: str, rows: Sequence[Mapping[str, Any]],
                 engine: sa.engine.Engine | None = None) -> int:
    """Write one batch of one series in its own transaction.

    Returns the number of new rows. Raises ``StoreUnavailable`` when the database is down and
    ``ValueError`` for an invalid row (nothing is written then) or when the series table cannot take
    the rows (missing table, another layout)."""
    with transaction(engine) as connection:
        result = write_batches(connection, {resource_id: rows})
    if resource_id in result.failed:
        raise ValueError(result.failed[resource_id])
    return result.inserted[resource_id]


def error_summary(error: BaseException) -> str:
    """The first line of the database's message, without SQL and parameters (which hold readings)."""
    original = getattr(error, "orig", None) or error
    message = str(original).strip().splitlines()
    return message[0] if message else type(original).__name__


def table_exists(engine: sa.engine.Engine, resource_id: str) -> bool:
    """Whether the DataStore holds a table for ``resource_id``."""
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT to_regclass(:name) IS NOT NULL"),
                                  {"name": f'public."{resource_id}"'}).scalar()
