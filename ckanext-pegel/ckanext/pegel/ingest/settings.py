"""The ingest worker's settings from the CKAN config (declared in config_declaration.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import ckan.plugins.toolkit as tk

from ckanext.pegel.ingest.adapters import ADAPTERS

# MQTT v5 caps Receive Maximum (the unacknowledged messages a broker may send) at 65535.
MAX_RECEIVE_MAXIMUM = 65535


class SettingsError(Exception):
    """A config option of the ingest is unusable; the message names the option."""


@dataclass(frozen=True)
class Subscription:
    """``topic`` is what the worker subscribes to, possibly a shared subscription
    ``$share/<group>/<filter>`` (several workers split the messages); ``filter`` is what the topics of
    the delivered messages match."""
    adapter: str
    topic: str

    @property
    def filter(self) -> str:
        if self.topic.startswith("$share/"):
            return self.topic.split("/", 2)[2]
        return self.topic


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    ca_file: str | None
    client_id: str
    subscriptions: tuple[Subscription, ...]
    session_expiry: int
    sensors_file: Path
    batch_size: int
    batch_seconds: float
    max_pending: int
    max_payload_bytes: int
    backoff_max_seconds: int
    dead_letter_days: int


def from_config(config=None) -> Settings:
    """Read and check the ``ckanext.pegel.*`` ingest options."""
    config = config if config is not None else tk.config
    url = urlparse(config.get("ckanext.pegel.mqtt_url") or "")
    if url.scheme not in ("mqtt", "mqtts") or not url.hostname:
        raise SettingsError("ckanext.pegel.mqtt_url must look like mqtt://host:1883 or mqtts://host:8883")
    try:
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
    except ValueError:
        raise SettingsError("ckanext.pegel.mqtt_url has an invalid port") from None
    sensors_file = config.get("ckanext.pegel.sensors_file")
    if not sensors_file:
        raise SettingsError("ckanext.pegel.sensors_file is not set (see config/sensors.example.yaml)")
    settings = Settings(
        host=url.hostname, port=port, tls=url.scheme == "mqtts",
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        ca_file=config.get("ckanext.pegel.mqtt_ca_file") or None,
        client_id=config.get("ckanext.pegel.mqtt_client_id"),
        subscriptions=parse_topics(config.get("ckanext.pegel.mqtt_topics")),
        session_expiry=_int(config, "ckanext.pegel.mqtt_session_expiry", 0),
        sensors_file=Path(sensors_file),
        batch_size=_int(config, "ckanext.pegel.ingest_batch_size", 1),
        batch_seconds=_int(config, "ckanext.pegel.ingest_batch_ms", 1) / 1000,
        max_pending=_int(config, "ckanext.pegel.ingest_max_pending", 1, MAX_RECEIVE_MAXIMUM),
        max_payload_bytes=_int(config, "ckanext.pegel.ingest_max_payload_bytes", 256),
        backoff_max_seconds=_int(config, "ckanext.pegel.ingest_backoff_max_seconds", 1),
        dead_letter_days=_int(config, "ckanext.pegel.dead_letter_days", 0),
    )
    if not settings.client_id:
        raise SettingsError("ckanext.pegel.mqtt_client_id must not be empty (it names the persistent session)")
    if settings.batch_size > settings.max_pending:
        raise SettingsError("ckanext.pegel.ingest_batch_size must not exceed ckanext.pegel.ingest_max_pending")
    return settings


def _int(config, key: str, lowest: int, highest: int | None = None) -> int:
    try:
        value = int(config.get(key))
    except (TypeError, ValueError):
        raise SettingsError(f"{key} must be a whole number") from None
    if value < lowest or (highest is not None and value > highest):
        raise SettingsError(f"{key} must be between {lowest} and {highest}" if highest
                            else f"{key} must be at least {lowest}")
    return value


def parse_topics(value) -> tuple[Subscription, ...]:
    """``adapter:topic-filter`` items (a list or a space-separated string), e.g.
    ``ttn_v3:v3/+/devices/+/up json:kommune/+/pegel``."""
    items = value.split() if isinstance(value, str) else list(value or [])
    if not items:
        raise SettingsError("ckanext.pegel.mqtt_topics is empty: nothing to subscribe to")
    subscriptions = []
    for item in items:
        adapter, _, topic = item.partition(":")
        if adapter not in ADAPTERS or not topic:
            raise SettingsError(f"ckanext.pegel.mqtt_topics: {item!r} is not adapter:topic "
                                f"(adapters: {', '.join(ADAPTERS)})")
        shared = topic.split("/", 2) if topic.startswith("$share/") else None
        if shared and (len(shared) < 3 or not shared[1] or "+" in shared[1] or "#" in shared[1]):
            raise SettingsError(f"ckanext.pegel.mqtt_topics: {topic!r} is not $share/<group>/<filter>")
        if not valid_filter(shared[2] if shared else topic):
            raise SettingsError(f"ckanext.pegel.mqtt_topics: {topic!r} is not a valid MQTT topic filter")
        subscriptions.append(Subscription(adapter, topic))
    return tuple(subscriptions)


def valid_filter(topic: str) -> bool:
    """MQTT topic filter rules: ``+`` and ``#`` fill a whole level, ``#`` only as the last one."""
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if ("+" in level or "#" in level) and len(level) > 1:
            return False
        if level == "#" and index != len(levels) - 1:
            return False
    return "\x00" not in topic and len(topic.encode()) <= 65535
