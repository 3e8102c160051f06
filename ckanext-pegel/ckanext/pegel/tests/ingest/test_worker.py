"""``ckan pegel ingest`` as a real process against the real Mosquitto and DataStore."""
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import ckan.plugins.toolkit as tk

from ckanext.pegel.tests.ingest.fixtures import wait_for_log
from ckanext.pegel.tests.ingest.services import Broker, TcpProxy, TlsBroker

EXAMPLE = Path(__file__).resolve().parents[5] / "config" / "sensors.example.yaml"
pytestmark = pytest.mark.usefixtures("clean_datastore")


def topics(prefix):
    return (f"ttn_v3:{prefix}/v3/+/devices/+/up chirpstack_v4:{prefix}/application/+/device/+/event/up "
            f"sensorthings:{prefix}/v1.1/+/Observations json:{prefix}/json/#")


def publish(client, topic, payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    info = client.publish(topic, body, qos=1)
    info.wait_for_publish(10)
    assert info.is_published()


def test_sample_messages_of_every_format_become_rows_once(
        series_resource, ingest_ini, start_ingest, publisher, sensor_message, wait_for_rows):
    kuselbach = series_resource("kusel-kuselbach")
    bruecke = series_resource("altenglan-glan-bruecke", create_table=False)  # the worker creates the table
    frost = series_resource("kusel-kuselbach-frost")
    lauter = series_resource("kaiserslautern-lauter-gartenschau")
    prefix = f"test/{uuid.uuid4().hex}"
    process, log = start_ingest(ingest_ini(EXAMPLE.read_text(), topics(prefix)))
    client = publisher(tk.config["ckanext.pegel.mqtt_url"])

    for name in ["ttn_v3/uplink_01.json", "ttn_v3/uplink_02.json", "ttn_v3/uplink_03.json",
                 "ttn_v3/uplink_01.json",  # delivered twice
                 "chirpstack_v4/event_up_01.json", "chirpstack_v4/event_up_02.json",
                 "sensorthings/mqtt_observation_01.json", "sensorthings/mqtt_observation_02.json"]:
        topic, payload = sensor_message(name)
        publish(client, f"{prefix}/{topic}", payload)
    publish(client, f"{prefix}/json/kl", {"device": "kl-lauter-01", "time": "2026-01-14T08:00:00+01:00",
                                           "water_level_cm": 123.4})

    rows = wait_for_rows(kuselbach["id"], 3)
    assert [(r["time"], r["value"], r["unit"], r["quality"], r["source"]) for r in rows] == [
        ("2026-01-14T06:15:07.482913+00:00", 181.3, "cm", "ok", "ttn"),
        ("2026-01-14T06:30:07.501244+00:00", 198.5, "cm", "ok", "ttn"),
        ("2026-01-14T06:45:07.477015+00:00", 219.4, "cm", "ok", "ttn"),
    ]
    assert [(r["time"], r["value"], r["source"]) for r in wait_for_rows(bruecke["id"], 2)] == [
        ("2026-01-14T06:50:03.114291+00:00", 230.8, "chirpstack"),
        ("2026-01-14T07:00:03.098144+00:00", 236.2, "chirpstack"),
    ]
    assert [(r["time"], r["value"]) for r in wait_for_rows(frost["id"], 2)] == [
        ("2026-01-14T06:15:07+00:00", 181.3), ("2026-01-14T06:30:07+00:00", 198.5)]
    assert [(r["time"], r["value"], r["source"]) for r in wait_for_rows(lauter["id"], 1)] == [
        ("2026-01-14T07:00:00+00:00", 123.4, "json")]
    # Nothing but the reading itself reaches the public table: no gateway, RSSI or position.
    fields = tk.get_action("datastore_search")({"ignore_auth": True}, {"resource_id": kuselbach["id"]})["fields"]
    assert [f["id"] for f in fields] == ["_id", "time", "value", "unit", "quality", "source"]
    assert process.poll() is None


JSON_DEVICE = """\
devices:
  - device: gauge-1
    adapter: json
    station: {station}
    field: level
    field_unit: cm
"""


def reading(i, device="gauge-1"):
    """The i-th plain-JSON reading: one a minute from 2026-01-01 00:00 UTC, value i/10 cm."""
    return {"device": device, "time": 1767225600 + 60 * i, "level": i / 10}


def test_hostile_payloads_land_in_the_dead_letter_table_and_the_worker_keeps_going(
        series_resource, ingest_ini, start_ingest, publisher, sensor_message, wait_for_rows, dead_letters):
    station = series_resource()
    prefix = f"test/{uuid.uuid4().hex}"
    process, log = start_ingest(ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix),
                                           {"ckanext.pegel.ingest_max_payload_bytes": 2048}))
    client = publisher(tk.config["ckanext.pegel.mqtt_url"])
    ttn_topic, ttn_unknown = sensor_message("ttn_v3/uplink_04.json")  # a device not in the sensors file
    hostile = [
        (f"{prefix}/json/a", b"\x00\xff\xfe binary"),
        (f"{prefix}/json/a", b"{\"device\": \"gauge-1\", \"time\": "),
        (f"{prefix}/json/a", b"[" * 2000),
        (f"{prefix}/json/a", b'{"device": "gauge-1", "time": 1767225600, "level": NaN}'),
        (f"{prefix}/json/a", b'{"device": "gauge-1", "time": "2999-01-01T00:00:00Z", "level": 1}'),
        (f"{prefix}/json/a", b'{"device": "gauge-1", "time": 1767225600, "level": "DROP TABLE"}'),
        (f"{prefix}/json/a", json.dumps({"device": "gauge-1", "time": 1767225600, "pad": "x" * 5000}).encode()),
        (f"{prefix}/{ttn_topic}", json.dumps(ttn_unknown).encode()),
    ]
    for topic, payload in hostile:
        publish(client, topic, payload)
    publish(client, f"{prefix}/json/a", reading(1))

    assert [r["value"] for r in wait_for_rows(station["id"], 1)] == [0.1]
    letters = dead_letters()
    assert [letter["reason"] for letter in letters] == [
        "payload is not UTF-8 text",
        "payload is not valid JSON (Expecting value: line 1 column 31 (char 30))",
        "payload is not valid JSON (maximum recursion depth exceeded while decoding a JSON array from a "
        "unicode string)",
        "payload contains NaN, not a number",
        "time '2999-01-01T00:00:00Z' lies in the future",
        "field 'level' 'DROP TABLE' is not a length",
        "payload of 5052 bytes exceeds the limit of 2048",
        "device 'pegel-altenglan-glan-02' (ttn_v3) is not in the sensors file",
    ]
    assert letters[0]["payload"] == "\ufffd\ufffd\ufffd binary"
    assert (letters[6]["payload_bytes"], letters[6]["truncated"], len(letters[6]["payload"])) == (5052, True, 4096)
    # The unknown device's uplink is kept for a replay, without its radio metadata.
    kept = json.loads(letters[-1]["payload"])
    assert kept["uplink_message"]["decoded_payload"]["Distance"] == "2311 mm"
    assert "rx_metadata" not in kept["uplink_message"] and "settings" not in kept["uplink_message"]
    assert "kusel-gw-01" not in letters[-1]["payload"] and "B827EBFFFE6A1C2D" not in letters[-1]["payload"]
    assert process.poll() is None


def test_a_crashed_worker_loses_nothing(series_resource, ingest_ini, start_ingest, publisher, wait_for_rows,
                                        dead_letters):
    station = series_resource()
    prefix = f"test/{uuid.uuid4().hex}"
    ini = ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix))
    process, log = start_ingest(ini, "first")
    client = publisher(tk.config["ckanext.pegel.mqtt_url"])
    for i in range(300):
        client.publish(f"{prefix}/json/a", json.dumps(reading(i)), qos=1)
        if i == 150:
            process.kill()  # SIGKILL: no chance to write or acknowledge what it holds
            process.wait(10)
    client.publish(f"{prefix}/json/a", json.dumps(reading(299)), qos=1).wait_for_publish(10)
    before_restart = len(wait_for_rows(station["id"], 0))

    start_ingest(ini, "second")  # same client id: the persistent session hands over the rest
    rows = wait_for_rows(station["id"], 300)
    assert before_restart < 300
    assert [r["value"] for r in rows] == [i / 10 for i in range(300)]
    assert dead_letters() == []


def publish_stream(client, prefix, first, last, pause=0.005, during=None):
    """Publish readings ``first`` to ``last - 1`` at QoS 1, calling ``during[i]()`` before reading i, and wait
    until the broker acknowledged each. paho queues what is published while the broker is away and sends
    it after reconnecting."""
    mids = []
    for i in range(first, last):
        if during and i in during:
            during[i]()
        mids.append(client.publish(f"{prefix}/json/a", json.dumps(reading(i)), qos=1).mid)
        time.sleep(pause)
    deadline = time.monotonic() + 60
    while not client.acknowledged.issuperset(mids):
        assert time.monotonic() < deadline, f"{len(set(mids) - client.acknowledged)} readings not acknowledged"
        time.sleep(0.1)


def test_broker_restart_mid_stream_loses_nothing(series_resource, ingest_ini, start_ingest, publisher,
                                                 wait_for_rows, dead_letters, tmp_path):
    station = series_resource()
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    try:
        prefix = f"test/{uuid.uuid4().hex}"
        process, log = start_ingest(ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix),
                                               {"ckanext.pegel.mqtt_url": broker.url}))
        client = publisher(broker.url)

        def restart():
            broker.stop()
            time.sleep(1.5)  # readings published meanwhile wait in the publisher
            broker.start()

        publish_stream(client, prefix, 0, 400, during={150: restart})
        rows = wait_for_rows(station["id"], 400, timeout=60)
        assert [r["value"] for r in rows] == [i / 10 for i in range(400)]
        wait_for_log(log, "subscribed to", process, count=2)  # it did reconnect, and is still running
        assert "disconnected from the broker" in log.read_text()
        assert dead_letters() == []
    finally:
        broker.stop()


def test_database_outage_buffers_and_retries(series_resource, ingest_ini, start_ingest, publisher, wait_for_rows,
                                             monkeypatch):
    station = series_resource()
    write_url = make_url(tk.config["ckan.datastore.write_url"])
    proxy = TcpProxy((write_url.host, write_url.port))
    # Only the DataStore connection of the worker goes through the proxy; the test reads directly.
    monkeypatch.setenv("CKAN_DATASTORE_WRITE_URL",
                       write_url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        prefix = f"test/{uuid.uuid4().hex}"
        process, log = start_ingest(ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix)))
        client = publisher(tk.config["ckanext.pegel.mqtt_url"])
        publish_stream(client, prefix, 0, 100, pause=0)
        assert len(wait_for_rows(station["id"], 100)) == 100

        proxy.cut()
        publish_stream(client, prefix, 100, 250, pause=0)
        wait_for_log(log, "database unavailable", process)
        time.sleep(2)
        assert len(wait_for_rows(station["id"], 0)) == 100  # nothing written while the database is away
        assert process.poll() is None

        proxy.restore()
        rows = wait_for_rows(station["id"], 250, timeout=30)
        assert [r["value"] for r in rows] == [i / 10 for i in range(250)]
    finally:
        proxy.close()


def test_workers_on_a_shared_subscription_split_the_load(series_resource, ingest_ini, start_ingest, publisher,
                                                         wait_for_rows):
    station = series_resource()
    prefix = f"test/{uuid.uuid4().hex}"
    ini = ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), f"json:$share/pegel/{prefix}/json/#")
    workers = [start_ingest(ini, f"worker-{k}", "--client-id", f"test-shared-{k}-{uuid.uuid4().hex[:6]}")
               for k in range(2)]
    client = publisher(tk.config["ckanext.pegel.mqtt_url"])
    publish_stream(client, prefix, 0, 200, pause=0.002)
    assert [r["value"] for r in wait_for_rows(station["id"], 200)] == [i / 10 for i in range(200)]
    shares = []
    for process, log in workers:
        process.terminate()
        process.wait(20)
        shares.append(int(re.search(r"stopped: (\d+) messages", log.read_text()).group(1)))
    assert sum(shares) == 200 and min(shares) > 0, shares


def test_tls_broker_with_password(series_resource, ingest_ini, start_ingest, ckan_process, publisher, wait_for_rows,
                                  tmp_path):
    station = series_resource()
    broker = TlsBroker(tmp_path / "mosquitto-tls", users={"ingest": "s3cret:pw"})
    broker.start()
    try:
        prefix = f"test/{uuid.uuid4().hex}"
        ini = ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix), {
            # The password's ":" percent-encoded in the URL, and the "%" doubled for the ini file.
            "ckanext.pegel.mqtt_url": broker.tls_url("ingest", "s3cret%%3Apw"),
            "ckanext.pegel.mqtt_ca_file": broker.ca_file})
        start_ingest(ini)
        publish_stream(publisher(broker.url), prefix, 0, 3)  # a gateway on the broker's other listener
        assert [r["value"] for r in wait_for_rows(station["id"], 3)] == [0.0, 0.1, 0.2]

        wrong = ingest_ini(JSON_DEVICE.format(station=station["pegel_station"]), topics(prefix), {
            "ckanext.pegel.mqtt_url": broker.tls_url("ingest", "wrong"), "ckanext.pegel.mqtt_ca_file": broker.ca_file})
        process = ckan_process(wrong, "pegel", "ingest", log=tmp_path / "wrong.log")
        wait_for_log(tmp_path / "wrong.log", "broker refused the connection: Not authorized (retrying)", process)
    finally:
        broker.stop()
