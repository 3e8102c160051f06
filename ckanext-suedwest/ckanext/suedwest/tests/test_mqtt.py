"""The MQTT broker of the stack delivers messages to paho-mqtt subscribers."""
import json
import threading
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

import ckan.plugins.toolkit as tk


def connect(url, client_id):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(url.hostname, url.port or 1883, keepalive=30)
    return client


def test_message_published_to_mosquitto_reaches_a_subscriber():
    url = urlparse(tk.config["ckanext.pegel.mqtt_url"])
    topic = f"suedwest/test/{uuid.uuid4()}"
    reading = {"device": "pegel-kusel-01", "water_level_cm": 123.4, "time": "2026-11-24T06:00:00Z"}
    received, subscribed = [], threading.Event()
    arrived = threading.Event()

    subscriber = connect(url, f"sub-{uuid.uuid4()}")
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.on_message = lambda client, userdata, message: (received.append(message), arrived.set())
    subscriber.subscribe(topic, qos=1)
    subscriber.loop_start()
    publisher = connect(url, f"pub-{uuid.uuid4()}")
    publisher.loop_start()
    try:
        assert subscribed.wait(10), "broker did not acknowledge the subscription"
        publisher.publish(topic, json.dumps(reading), qos=1).wait_for_publish(10)
        assert arrived.wait(10), "message did not arrive"
    finally:
        for client in (publisher, subscriber):
            client.loop_stop()
            client.disconnect()

    assert received[0].topic == topic
    assert received[0].qos == 1
    assert json.loads(received[0].payload) == reading
