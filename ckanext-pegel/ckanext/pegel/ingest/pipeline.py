"""From MQTT message to committed rows: decode, resolve the series, write one batch.

The worker (``worker``) only moves messages and acknowledgements; this module decides what becomes
a reading and what a dead letter, so the same steps serve a replay of dead letters.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import sqlalchemy as sa
from paho.mqtt.client import topic_matches_sub

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.pegel import series
from ckanext.pegel.ingest import adapters, deadletter, store
from ckanext.pegel.ingest.adapters import InvalidPayload
from ckanext.pegel.ingest.mapping import Device, SensorsFile
from ckanext.pegel.ingest.settings import Subscription

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Message:
    """One received message and what it became: a reading (``device`` and ``row``) or a dead letter
    (``reason``). ``mid``/``qos``/``generation`` belong to the MQTT connection that delivered it."""
    topic: str
    payload: bytes
    received_at: dt.datetime
    device: Device | None = None
    row: dict | None = None
    reason: str | None = None
    size: int | None = None  # bytes as received, when ``payload`` was cut
    mid: int = 0
    qos: int = 0
    generation: int = 0
    arrived: float = field(default_factory=time.monotonic)

    def dead_letter(self, reason: str | None = None) -> deadletter.DeadLetter:
        return deadletter.DeadLetter(self.topic, reason or self.reason or "unknown", self.payload, self.received_at,
                                     self.size)


class Decoder:
    """Turns (topic, payload) into a reading with the adapter of the first matching subscription and
    the device's entry of the sensors file."""

    # Topics repeat (one per device): remember the answer for this many of them.
    TOPIC_CACHE_SIZE = 10_000

    def __init__(self, sensors: SensorsFile, subscriptions: Sequence[Subscription], max_payload_bytes: int):
        self.sensors, self.subscriptions, self.max_payload_bytes = sensors, subscriptions, max_payload_bytes
        self._adapters: dict[str, str | None] = {}

    def adapter_for(self, topic: str) -> str | None:
        try:
            return self._adapters[topic]
        except KeyError:
            pass
        adapter = next((s.adapter for s in self.subscriptions if topic_matches_sub(s.filter, topic)), None)
        if len(self._adapters) >= self.TOPIC_CACHE_SIZE:
            self._adapters.clear()
        self._adapters[topic] = adapter
        return adapter

    def decode(self, message: Message, adapter: str | None = None) -> Message:
        """Fill in ``device`` and ``row``, or ``reason`` when the message cannot become a reading."""
        message.device = message.row = message.reason = None
        try:
            if len(message.payload) > self.max_payload_bytes:
                # Keep only what the dead letter stores: the buffer holds ingest_max_pending messages.
                message.size, message.payload = len(message.payload), message.payload[:deadletter.PAYLOAD_MAX_CHARS]
                raise InvalidPayload(f"payload of {message.size} bytes exceeds the limit of "
                                     f"{self.max_payload_bytes}")
            adapter = adapter or self.adapter_for(message.topic)
            if adapter is None:
                raise InvalidPayload("topic matches no configured subscription")
            uplink = adapters.read(adapter, message.topic, message.payload)
            device = self.sensors.lookup(adapter, uplink.device)
            if device is None:
                raise InvalidPayload(f"device {uplink.device!r} ({adapter}) is not in the sensors file")
            message.row, message.device = device.row(uplink), device
        except InvalidPayload as error:
            message.reason = str(error)
        return message


class Resolver:
    """Finds (and if needed creates) the series table of a device; remembers the answer, and retries a
    missing station or resource after ``retry_seconds`` (it may be harvested or created meanwhile).
    A table found is stripped of its full-text indexes (``series.drop_fulltext_indexes``) unless ``slim`` is
    off (default: ``ckanext.pegel.ingest_slim_series_tables``)."""

    def __init__(self, engine: sa.engine.Engine, retry_seconds: float = 60,
                 lookup: Callable[[str], str | None] = series.series_resource_id, slim: bool | None = None):
        self.engine, self.retry_seconds, self.lookup = engine, retry_seconds, lookup
        self.slim = tk.asbool(tk.config.get("ckanext.pegel.ingest_slim_series_tables")) if slim is None else slim
        self._known: dict[tuple[str, str], tuple[str | None, str | None, float]] = {}

    def resolve(self, device: Device) -> tuple[str | None, str | None]:
        """(resource id, None) or (None, reason)."""
        known = self._known.get(device.key)
        if known and (known[0] or time.monotonic() - known[2] < self.retry_seconds):
            return known[0], known[1]
        resource_id, reason = self._resolve(device)
        self._known[device.key] = (resource_id, reason, time.monotonic())
        if reason:
            log.warning("device %s (%s): %s", device.device, device.adapter, reason)
        return resource_id, reason

    def forget(self, resource_id: str) -> None:
        """Look the series of ``resource_id`` up again next time (its table went away)."""
        self._known = {key: value for key, value in self._known.items() if value[0] != resource_id}

    def _resolve(self, device: Device) -> tuple[str | None, str | None]:
        resource_id = device.resource_id or self.lookup(device.station)
        if resource_id is None:
            return None, f"no series resource for station {device.station!r}"
        if store.table_exists(self.engine, resource_id):
            # Tables created before series tables lost their full-text indexes are slimmed here, once
            # per worker start (a no-op for the others).
            if self.slim and series.drop_fulltext_indexes(resource_id, self.engine):
                log.info("dropped the full-text indexes of the series table of resource %s", resource_id)
            return resource_id, None
        try:
            site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
            series.ensure_series_table({"user": site_user["name"], "ignore_auth": True}, resource_id)
        except tk.ObjectNotFound:
            return None, f"series resource {resource_id} not found"
        except tk.ValidationError as error:
            return None, f"cannot create the series table of {resource_id}: {error.error_summary}"
        log.info("created the series table of resource %s (%s)", resource_id, device.target)
        return resource_id, None


@dataclass
class Outcome:
    inserted: int = 0
    duplicates: int = 0
    dead_letters: int = 0


def write(engine: sa.engine.Engine, messages: Iterable[Message], resolver: Resolver) -> Outcome:
    """Write the readings and dead letters of ``messages`` in one transaction: one statement per series
    and one for the dead letters. Raises ``store.StoreUnavailable`` when the database is down (nothing
    is committed then)."""
    groups: dict[str, list[Message]] = {}
    rows: dict[str, list[tuple]] = {}  # the checked rows of each group
    letters: list[deadletter.DeadLetter] = []
    outcome = Outcome()
    try:
        for message in messages:
            if message.reason:
                letters.append(message.dead_letter())
                continue
            try:
                # Checked here, so that a row the statement would refuse does not block the batch.
                row = store.normalise_row(message.row)
            except ValueError as error:
                letters.append(message.dead_letter(f"invalid reading: {error}"))
                continue
            resource_id, reason = resolver.resolve(message.device)
            if resource_id is None:
                letters.append(message.dead_letter(reason))
            else:
                groups.setdefault(resource_id, []).append(message)
                rows.setdefault(resource_id, []).append(row)
        with store.transaction(engine) as connection:
            result = store.write_batches(connection, rows)
            for resource_id, reason in result.failed.items():
                resolver.forget(resource_id)
                letters.extend(m.dead_letter(f"series {resource_id}: {reason}") for m in groups[resource_id])
            outcome.dead_letters = deadletter.insert(connection, letters)
    except sa.exc.DBAPIError as error:  # resolving a series failed (CKAN database or datastore_create)
        model.Session.remove()
        if store.is_unavailable(error):
            raise store.StoreUnavailable(store.error_summary(error)) from error
        raise
    outcome.inserted = result.total_inserted
    outcome.duplicates = sum(len(g) for rid, g in groups.items() if rid not in result.failed) - outcome.inserted
    return outcome
