"""The live series of a gauging station: one DataStore table per station, shared by every source.

PEGELONLINE (harvester and poller) and the municipalities' own sensors (MQTT ingest) write into the
same table layout, so previews, the status action and the dashboard read one format whatever the source.

A series is a CKAN resource of the station's dataset. It carries two resource fields that mark it:
``pegel_station`` (the station key: the PEGELONLINE UUID, or the municipality's own station id for
sensor gauges) and ``pegel_series`` (the measured quantity, ``W`` = water level).
"""
import json
import logging

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

STATION_FIELD = "pegel_station"
SERIES_FIELD = "pegel_series"
WATER_LEVEL = "W"

# time: UTC instant of the reading; value: in ``unit`` (W: cm above gauge zero, may be negative);
# quality: "ok" or a short reason ("suspect", "estimated", ...); source: "pegelonline", "ttn",
# "chirpstack", "sensorthings" or "json". No radio metadata here: the table is public.
SERIES_FIELDS = [
    {"id": "time", "type": "timestamptz"},
    {"id": "value", "type": "float8"},
    {"id": "unit", "type": "text"},
    {"id": "quality", "type": "text"},
    {"id": "source", "type": "text"},
]
# One reading per station and instant: a reading delivered twice (MQTT QoS 1 redelivery, a poller
# overlapping its last window) is stored once.
SERIES_PRIMARY_KEY = ["time"]


def ensure_series_table(context: dict, resource_id: str) -> None:
    """Create the DataStore table of a series resource if it does not exist yet, without the full-text
    indexes (``drop_fulltext_indexes``); idempotent.

    An existing table of the series layout whose resource is flagged ``datastore_active`` is left to
    ``drop_fulltext_indexes`` alone: ``datastore_create`` would first rebuild the dropped indexes over
    every stored reading (``create_indexes`` runs on each call)."""
    if _series_table_current(resource_id):
        tk.check_access("datastore_create", dict(context), {"resource_id": resource_id})
    else:
        tk.get_action("datastore_create")(dict(context), {
            "resource_id": resource_id,
            "fields": SERIES_FIELDS,
            "primary_key": SERIES_PRIMARY_KEY,
            "force": True,
        })
    drop_fulltext_indexes(resource_id)


def _series_table_current(resource_id: str) -> bool:
    resource = model.Resource.get(resource_id)
    if resource is None or resource.state != "active" or not tk.asbool(resource.extras.get("datastore_active")):
        return False
    with _write_engine().connect() as connection:
        columns = dict(connection.execute(sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:table) AND attnum > 0 AND NOT attisdropped"),
            {"table": _table_name(resource_id)}).fetchall())
    return all(columns.get(f["id"]) == _PG_TYPES.get(f["type"], f["type"]) for f in SERIES_FIELDS)


_PG_TYPES = {"timestamptz": "timestamp with time zone", "float8": "double precision"}
# How long dropping an index may wait for the table. Short: while it waits, it also holds up every
# reader and writer that comes after it (DROP INDEX needs the table to itself).
LOCK_TIMEOUT_MS = 1000


def drop_fulltext_indexes(resource_id: str, engine=None, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> int:
    """Drop the DataStore's full-text indexes of a series table; returns how many were dropped.

    The DataStore puts a GiST index on ``_full_text`` and one on each text column (unit, quality,
    source); nobody searches a series by those words, and maintaining them cost about 80 % of an
    insert. The ``_full_text`` column and its trigger stay, so ``datastore_search`` with ``q`` still
    finds rows (by scanning the table). Idempotent; a failure (e.g. a transaction that has read the
    table stays open for longer than ``lock_timeout_ms``) is logged and leaves the indexes for the next
    call, it never fails the caller.
    """
    try:
        with (engine or _write_engine()).begin() as connection:
            connection.execute(sa.text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            names = connection.execute(sa.text(
                "SELECT index.relname FROM pg_index AS x "
                "JOIN pg_class AS index ON index.oid = x.indexrelid "
                "JOIN pg_am AS method ON method.oid = index.relam "
                "WHERE x.indrelid = to_regclass(:table) AND method.amname IN ('gist', 'gin') "
                "AND (pg_get_indexdef(x.indexrelid) LIKE '%to_tsvector(%' "
                "OR pg_get_indexdef(x.indexrelid) LIKE '%\\_full\\_text%')"),
                {"table": _table_name(resource_id)}).scalars().all()
            for name in names:
                connection.execute(sa.text(f'DROP INDEX IF EXISTS public."{name}"'))
    except sa.exc.DBAPIError as error:
        log.warning("series %s: full-text indexes not dropped: %s", resource_id,
                                            str(getattr(error, "orig", error)).strip().splitlines()[0])
        return 0
    return len(names)


def _table_name(resource_id: str) -> str:
    return 'public."' + resource_id.replace('"', '""') + '"'


def _write_engine():
    from ckanext.datastore.backend.postgres import get_write_engine

    return get_write_engine()


def series_resource_id(station: str, series: str = WATER_LEVEL) -> str | None:
    """The id of the series resource of ``station`` (active resource of an active dataset), or None.

    Resource fields are not indexed for ``package_search``, so this reads the resource table; when
    several resources claim the same station and series, the oldest wins."""
    resource, package = model.resource_table, model.package_table
    extras = sa.cast(resource.c.extras, sa.UnicodeText)
    pattern = "%" + json.dumps(station, ensure_ascii=False).replace("\\", "\\\\").replace(
        "%", "\\%").replace("_", "\\_") + "%"
    candidates = model.Session.execute(
        sa.select(resource.c.id, resource.c.extras)
        .select_from(resource.join(package, package.c.id == resource.c.package_id))
        .where(resource.c.state == "active", package.c.state == "active", extras.like(pattern, escape="\\"))
        .order_by(resource.c.created))
    for resource_id, fields in candidates:
        fields = fields if isinstance(fields, dict) else json.loads(fields or "{}")
        if fields.get(STATION_FIELD) == station and fields.get(SERIES_FIELD) == series:
            return resource_id
    return None
