"""The live series of a gauging station: one DataStore table per station, shared by every source.

PEGELONLINE (harvester and poller) and the municipalities' own sensors (MQTT ingest) write into the
same table layout, so previews, the status action and the dashboard read one format whatever the source.

A series is a CKAN resource of the station's dataset. It carries two resource fields that mark it:
``pegel_station`` (the station key: the PEGELONLINE UUID, or the municipality's own station id for
sensor gauges) and ``pegel_series`` (the measured quantity, ``W`` = water level).
"""
import ckan.plugins.toolkit as tk

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
    """Create the DataStore table of a series resource if it does not exist yet (idempotent)."""
    tk.get_action("datastore_create")(dict(context), {
        "resource_id": resource_id,
        "fields": SERIES_FIELDS,
        "primary_key": SERIES_PRIMARY_KEY,
        "force": True,
    })


def series_resource_id(station: str, series: str = WATER_LEVEL) -> str | None:
    """The id of the series resource of ``station`` (active resource of an active dataset), or None.

    Resource fields are not indexed for ``package_search``, so this reads the resource table; when
    several resources claim the same station and series, the oldest wins."""
    import json

    import sqlalchemy as sa

    import ckan.model as model

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
