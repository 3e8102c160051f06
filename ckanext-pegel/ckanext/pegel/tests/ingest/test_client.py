"""The ingest's paho client (read ahead, several packets per loop pass) against the real Mosquitto."""
import threading
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

import ckan.plugins.toolkit as tk

from ckanext.pegel.ingest import worker


def test_the_fast_receive_path_is_active_with_the_pinned_paho():
    assert worker._FAST_RECEIVE


class Consumer:
    """A manual-ack MQTT v5 consumer built like the worker's, in a persistent session."""

    def __init__(self, client_id, topic):
        url = urlparse(tk.config["ckanext.pegel.mqtt_url"])
        self.received, self.subscribed = [], threading.Event()
        self.client = worker._Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                     protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        self.client.on_message = lambda client, userdata, message: self.received.append(
            (message.mid, message.payload))
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe(topic, options=SubscribeOptions(qos=1))
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 60
        properties.ReceiveMaximum = 5000
        self.client.connect(url.hostname, url.port or 1883, clean_start=False, properties=properties)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def wait_for(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def test_bursts_of_small_and_large_messages_arrive_whole_in_order_and_acknowledged(publisher):
    topic, client_id = f"test/{uuid.uuid4().hex}/burst", f"test-client-{uuid.uuid4().hex[:8]}"
    # Sizes around and beyond the read-ahead block, so that packets straddle its boundaries.
    sizes = [1, 1500, 70_000, 3, 65_536, 200_000, 1400] * 60
    payloads = [(f"{i:05d}".encode() * (size // 5 + 1))[:size] for i, size in enumerate(sizes)]
    consumer = Consumer(client_id, topic)
    try:
        consumer.close()  # the session keeps the subscription: everything below queues up at the broker
        sender = publisher(tk.config["ckanext.pegel.mqtt_url"])
        infos = [sender.publish(topic, payload, qos=1) for payload in payloads]
        for info in infos:
            info.wait_for_publish(30)

        consumer = Consumer(client_id, topic)
        received = consumer.wait_for(len(payloads))
        assert [payload for mid, payload in received] == payloads
        for mid, _ in received:
            consumer.client.ack(mid, 1)
        time.sleep(1)  # the network thread writes the acknowledgements
        consumer.close()

        again = Consumer(client_id, topic)  # acknowledged messages are not delivered again
        time.sleep(1)
        assert again.received == []
        again.close()
    finally:
        consumer.close()


@pytest.mark.parametrize("burst", [1, 7])
def test_unacknowledged_messages_come_again_after_a_reconnect(publisher, burst, monkeypatch):
    monkeypatch.setattr(worker._Client, "READ_BURST", burst)
    topic, client_id = f"test/{uuid.uuid4().hex}/again", f"test-client-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(client_id, topic)
    sender = publisher(tk.config["ckanext.pegel.mqtt_url"])
    for info in [sender.publish(topic, f"m{i}".encode(), qos=1) for i in range(50)]:
        info.wait_for_publish(10)
    received = consumer.wait_for(50)
    for mid, _ in received[:20]:
        consumer.client.ack(mid, 1)
    time.sleep(0.5)
    consumer.close()

    again = Consumer(client_id, topic)
    assert [payload for _, payload in again.wait_for(30)] == [f"m{i}".encode() for i in range(20, 50)]
    again.close()
