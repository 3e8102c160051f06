"""The PEGELONLINE poller: current measurements into the stations' series tables (``ckan pegel poll``).

The series to feed are those of the stations the PEGELONLINE harvest sources currently harvest (active
datasets only: a withdrawn station is not polled). Per harvest source, one ``stations.json`` request with
``includeCurrentMeasurement`` brings every station's latest water level (a few requests for hundreds of
stations); a station the answer lacks is asked for alone (``currentmeasurement.json``).

Readings are written like the MQTT ingest writes them (ckanext.pegel.ingest.store): one transaction per
poll, one ``INSERT ... ON CONFLICT (time) DO NOTHING`` statement per series, so a value polled twice is
stored once and the poller may run as often as it likes. Timestamps are stored in UTC.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckanext.harvest.model import HarvestObject, HarvestSource

from ckanext.pegel import pegelonline, series
from ckanext.pegel.harvesters import config as source_config
from ckanext.pegel.ingest import store

log = logging.getLogger(__name__)

SOURCE_TYPE = "pegelonline"
QUALITY = "ok"
SOURCE = "pegelonline"


@dataclass
class PolledSource:
    """A harvest source and the series resources of its stations (station UUID -> resource ids)."""
    id: str
    url: str
    timeout: float
    stations: dict = field(default_factory=lambda: defaultdict(list))


@dataclass
class PollReport:
    stations: int = 0  # stations asked for
    readings: int = 0  # readings received
    inserted: int = 0  # of those, new in the tables
    errors: list = field(default_factory=list)  # English, for the log and the command's output

    def add(self, other: "PollReport") -> None:
        self.stations += other.stations
        self.readings += other.readings
        self.inserted += other.inserted
        self.errors.extend(other.errors)


def polled_sources() -> list[PolledSource]:
    """The active PEGELONLINE harvest sources with the series resources of their current stations."""
    resource = model.resource_table
    rows = (model.Session.query(HarvestSource.id, HarvestSource.url, HarvestSource.config, HarvestObject.guid,
                                resource.c.id, resource.c.extras)
            .join(HarvestObject, HarvestObject.harvest_source_id == HarvestSource.id)
            .join(model.Package, model.Package.id == HarvestObject.package_id)
            .join(resource, resource.c.package_id == model.Package.id)
            .filter(HarvestSource.type == SOURCE_TYPE, HarvestSource.active == True)  # noqa: E712
            .filter(HarvestObject.current == True)  # noqa: E712
            .filter(model.Package.state == "active", resource.c.state == "active")
            .order_by(HarvestSource.id))
    sources: dict[str, PolledSource] = {}
    for source_id, url, config, guid, resource_id, extras in rows:
        extras = extras if isinstance(extras, dict) else {}
        if extras.get(series.STATION_FIELD) != guid or extras.get(series.SERIES_FIELD) != series.WATER_LEVEL:
            continue
        if source_id not in sources:
            sources[source_id] = PolledSource(source_id, url, _timeout(config))
        sources[source_id].stations[guid].append(resource_id)
    return list(sources.values())


def _timeout(config: str | None) -> float:
    try:
        return source_config.parse(config).timeout_seconds
    except source_config.ConfigError:  # a source saved before its organisation was renamed, say
        return source_config.SourceConfig().timeout_seconds


def poll_source(source: PolledSource, engine=None) -> PollReport:
    """Read the current water level of every station of one source and store what is new."""
    report = PollReport(stations=len(source.stations))
    client = pegelonline.Client(source.url, timeout=source.timeout)
    try:
        records = client.stations(ids=sorted(source.stations), current_measurement=True)
    except pegelonline.FeedError as error:
        report.errors.append(f"source {source.url}: {error}")
        return report
    readings: dict[str, dict] = {}
    for record in records:
        uuid = pegelonline.record_uuid(record)
        if uuid in source.stations and uuid not in readings:
            measurement = _current_measurement(record)
            if measurement is not None:
                readings[uuid] = measurement
    for uuid in sorted(set(source.stations) - set(readings)):
        try:
            readings[uuid] = client.current_measurement(uuid)
        except pegelonline.FeedError as error:
            report.errors.append(f"station {uuid}: {error}")

    batches = defaultdict(list)
    for uuid, measurement in readings.items():
        try:
            time, value = pegelonline.parse_measurement(measurement)
        except ValueError as error:
            report.errors.append(f"station {uuid}: unusable measurement ({error})")
            continue
        report.readings += 1
        row = {"time": time, "value": value, "unit": measurement.get("unit") or "cm", "quality": QUALITY,
               "source": SOURCE}
        for resource_id in source.stations[uuid]:
            batches[resource_id].append(row)
    if not batches:
        return report
    _slim_once(batches, engine)
    try:
        with store.transaction(engine) as connection:
            result = store.write_batches(connection, batches)
    except store.StoreUnavailable as error:
        report.errors.append(f"source {source.url}: DataStore unavailable ({error}); nothing written")
        return report
    report.inserted = result.total_inserted
    report.errors.extend(f"series {resource_id}: {reason}" for resource_id, reason in result.failed.items())
    return report


# Series tables this process has already stripped of the DataStore's full-text indexes (tables made
# before series tables lost them; a station that never changes is not re-imported by the harvester).
_slimmed: set[str] = set()


def _slim_once(resource_ids, engine) -> None:
    if not tk.asbool(tk.config.get("ckanext.pegel.ingest_slim_series_tables")):
        return
    for resource_id in set(resource_ids) - _slimmed:
        if store.table_exists(engine or store.write_engine(), resource_id):
            series.drop_fulltext_indexes(resource_id, engine)
            _slimmed.add(resource_id)


def _current_measurement(record: dict) -> dict | None:
    """The current measurement of the record's water level series, with the series' unit."""
    for timeseries in record.get("timeseries") or []:
        if isinstance(timeseries, dict) and timeseries.get("shortname") == pegelonline.WATER_LEVEL:
            measurement = timeseries.get("currentMeasurement")
            if isinstance(measurement, dict):
                return dict(measurement, unit=timeseries.get("unit"))
    return None


def poll_once(engine=None) -> PollReport:
    """One round over every PEGELONLINE source; problems of one source do not stop the others."""
    report = PollReport()
    for source in polled_sources():
        source_report = poll_source(source, engine)
        log.info("PEGELONLINE poll of %s: %d stations, %d readings, %d new", source.url,
                 source_report.stations, source_report.readings, source_report.inserted)
        for error in source_report.errors:
            log.warning("PEGELONLINE poll: %s", error)
        report.add(source_report)
    model.Session.remove()  # no long-lived session state between rounds
    return report


def run(interval: float, stop: threading.Event) -> None:
    """Poll every ``interval`` seconds until ``stop`` is set; a failing round is logged, not fatal."""
    while not stop.is_set():
        try:
            poll_once()
        except Exception:  # the database may be restarting: try again next round
            log.exception("PEGELONLINE poll failed")
            model.Session.remove()
        stop.wait(interval)
