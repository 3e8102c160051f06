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
