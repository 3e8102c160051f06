"""The ingest's config options: checked with messages that name the option."""
from pathlib import Path

import pytest

from ckanext.pegel.ingest import settings
from ckanext.pegel.ingest.settings import SettingsError, Subscription

DEFAULTS = {
    "ckanext.pegel.mqtt_url": "mqtt://127.0.0.1:1883", "ckanext.pegel.mqtt_ca_file": "",
    "ckanext.pegel.mqtt_client_id": "ckan-pegel-ingest",
    "ckanext.pegel.mqtt_topics": ["ttn_v3:v3/+/devices/+/up"], "ckanext.pegel.mqtt_session_expiry": 604800,
    "ckanext.pegel.sensors_file": "/etc/ckan/sensors.yaml", "ckanext.pegel.ingest_batch_size": 1000,
    "ckanext.pegel.ingest_batch_ms": 250, "ckanext.pegel.ingest_max_pending": 10000,
    "ckanext.pegel.ingest_max_payload_bytes": 16384, "ckanext.pegel.ingest_backoff_max_seconds": 60,
    "ckanext.pegel.dead_letter_days": 30,
}


def test_broker_url_with_tls_and_credentials():
    config = {**DEFAULTS, "ckanext.pegel.mqtt_url": "mqtts://ingest:s%40cret@mqtt.example.org"}
    result = settings.from_config(config)
    assert (result.host, result.port, result.tls, result.username, result.password) == (
        "mqtt.example.org", 8883, True, "ingest", "s@cret")
    assert result.sensors_file == Path("/etc/ckan/sensors.yaml")
    assert result.batch_seconds == 0.25


@pytest.mark.parametrize("key, value, message", [
    ("ckanext.pegel.mqtt_url", "http://broker", "mqtt://host:1883"),
    ("ckanext.pegel.mqtt_url", "mqtt://broker:99999", "invalid port"),
    ("ckanext.pegel.sensors_file", "", "sensors_file is not set"),
    ("ckanext.pegel.mqtt_client_id", "", "mqtt_client_id must not be empty"),
    ("ckanext.pegel.ingest_max_pending", 70000, "ingest_max_pending must be between 1 and 65535"),
    ("ckanext.pegel.ingest_batch_size", 20000, "must not exceed ckanext.pegel.ingest_max_pending"),
    ("ckanext.pegel.ingest_batch_ms", "soon", "ingest_batch_ms must be a whole number"),
    ("ckanext.pegel.mqtt_topics", [], "nothing to subscribe to"),
])
def test_unusable_options_are_named(key, value, message):
    with pytest.raises(SettingsError, match=message):
        settings.from_config({**DEFAULTS, key: value})


def test_topics_with_adapters_and_shared_subscriptions():
    subscriptions = settings.parse_topics(
        "ttn_v3:v3/+/devices/+/up json:$share/pegel/kommune/#  sensorthings:v1.1/Datastreams(17)/Observations")
    assert subscriptions == (Subscription("ttn_v3", "v3/+/devices/+/up"),
                             Subscription("json", "$share/pegel/kommune/#"),
                             Subscription("sensorthings", "v1.1/Datastreams(17)/Observations"))
    assert [s.filter for s in subscriptions] == ["v3/+/devices/+/up", "kommune/#", "v1.1/Datastreams(17)/Observations"]


@pytest.mark.parametrize("item, message", [
    ("lora:a/b", "is not adapter:topic"),
    ("ttn_v3:", "is not adapter:topic"),
    ("json:a/#/b", "not a valid MQTT topic filter"),
    ("json:a/b+", "not a valid MQTT topic filter"),
    ("json:$share//a", "is not \\$share/<group>/<filter>"),
    ("json:$share/g+/a", "is not \\$share/<group>/<filter>"),
])
def test_invalid_topics(item, message):
    with pytest.raises(SettingsError, match=message):
        settings.parse_topics(item)
