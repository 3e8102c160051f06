"""Benchmark: the MQTT sensor ingest (``ckan pegel ingest``) from publish to committed, queryable rows.

What is measured
----------------
1. **Latency** at a steady ``--rate`` (default 1,000 readings/s) for ``--seconds`` (default 30): for each
   reading, the time from its ``publish()`` until a read-only DataStore connection (the DataStore's read
   user, what ``datastore_search`` uses) sees the row; p50, p95, p99 and max. A watcher polls the series
   tables every ``--poll-ms`` (default 5 ms), so each latency may be up to that much too high.
2. **Sustained ingest, live**: ``--count`` readings (default 50,000) published as fast as Mosquitto's own
   client can (``mosquitto_pub -l``, one per device; about ten times the rate of a paho client, which
   ``--publisher paho`` uses instead), with the worker running; readings/s = count / (first publish .. last
   row committed). When the publisher is slower than the worker, this is the publisher's rate: the report
   gives both.
3. **Sustained ingest, backlog**: the worker is stopped (SIGTERM), ``--count`` readings are published into
   its persistent session at the broker, the worker is started again; readings/s = rows / (first row ..
   last row committed). This is the worker's own capacity (decode, batch, write, acknowledge), whatever
   the publisher can do.

Every reading is a The Things Stack v3 uplink of about 1.6 KB (``--format ttn``: decoded payload,
rx_metadata, settings, as in the shared sample messages) or the plain JSON form (``--format json``), spread
over ``--stations`` devices (default 10), each with its own series table. Targets (issue 5, item 7):
sustained ingest at least 10,000 readings/s, publish-to-queryable p99 at most 1 s at 1,000 readings/s.

How
---
Everything is real: a Mosquitto of its own on a free port (the project's ``config/mosquitto.conf`` plus
``max_queued_messages 0``, so that the backlog phase is not cut at the default 1,000 queued messages), the
worker as a ``ckan -c <ini> pegel ingest`` process (the test configuration plus the benchmark's sensors
file; ``CKAN_*`` environment overrides apply), and the DataStore database. The series tables are created
with the DataStore backend exactly as ``ensure_series_table`` does (``datastore_create``: table, full-text
trigger, primary key on ``time``; then its full-text indexes dropped, unless ``--fulltext-indexes``) under
fresh resource ids, and dropped at the end; the CKAN database is not touched. The script
refuses to run when the DataStore database's name does not contain ``test``.

Usage (from the repository root, services up)::

    .venv/bin/python benchmarks/pegel_ingest.py
    .venv/bin/python benchmarks/pegel_ingest.py --count 20000 --seconds 10 --format json
    .venv/bin/python benchmarks/pegel_ingest.py --set ckanext.pegel.ingest_batch_size=5000 --json
    .venv/bin/python benchmarks/pegel_ingest.py --fulltext-indexes     # series tables as before (comparison)
    .venv/bin/python benchmarks/pegel_ingest.py --workers 2

Exit status 0 when it measured (whether or not the targets are met), 2 when it could not run.
"""
import argparse
import base64
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _pegel_ingest_services import (REPOSITORY, Broker, CannotRun, RowWatcher, SeriesTables, Worker, load_ckan,
                                    wait_until)

BASE_TIME = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # reading i of a station is BASE_TIME + i s
TARGET_RATE, TARGET_P99 = 10_000, 1.0


def progress(message):
    print(message, file=sys.stderr, flush=True)


# Payloads


def ttn_uplink(device, i):
    """A TTS v3 uplink as the MQTT integration delivers it (radio metadata included)."""
    at = (BASE_TIME + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    distance = 1000 + i % 2000
    return {
        "end_device_ids": {"device_id": device, "application_ids": {"application_id": "bench"},
                           "dev_eui": "A84041000181C6A1", "join_eui": "A840410000000101", "dev_addr": "260B03FD"},
        "correlation_ids": [f"as:up:{uuid.uuid4().hex}"], "received_at": at,
        "uplink_message": {
            "session_key_id": "AYxP1Jm0c1M0nq3u1D1Q7g==", "f_port": 2, "f_cnt": i,
            "frm_payload": base64.b64encode(distance.to_bytes(4, "big")).decode(),
            "decoded_payload": {"Bat": 3.407, "Distance": f"{distance} mm", "Interrupt_flag": 0, "Sensor_flag": 1,
                                "TempC_DS18B20": "0.00"},
            "rx_metadata": [{"gateway_ids": {"gateway_id": "bench-gw-01", "eui": "B827EBFFFE6A1C2D"}, "time": at,
                             "timestamp": 3967218811, "rssi": -97, "channel_rssi": -97, "snr": 7.5,
                             "location": {"latitude": 49.5372, "longitude": 7.3986, "altitude": 240,
                                          "source": "SOURCE_REGISTRY"},
                             "uplink_token": "ChkKFwoLa3VzZWwtZ3ctMDESCLgn6//+ahwtEKv7wOQOGgwI", "received_at": at}],
            "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9, "coding_rate": "4/5"}},
                         "frequency": "867500000", "timestamp": 3967218811, "time": at},
            "received_at": at, "consumed_airtime": "0.185344s",
            "network_ids": {"net_id": "000013", "ns_id": "EC656E0000000181", "tenant_id": "ttn",
                            "cluster_id": "eu1", "cluster_address": "eu1.cloud.thethings.network"},
            "version_ids": {"brand_id": "dragino", "model_id": "ldds75", "hardware_version": "_unknown_hw_version_",
                            "firmware_version": "1.1.4", "band_id": "EU_863_870"}}}


def plain_reading(device, i):
    return {"device": device, "time": (BASE_TIME + dt.timedelta(seconds=i)).isoformat(), "level": (i % 5000) / 10}


class Workload:
    """Reading ``n`` goes to device ``n % stations`` as that device's reading ``n // stations``."""

    def __init__(self, fmt, stations):
        self.fmt, self.stations = fmt, stations
        self.devices = [f"bench-{k:03d}" for k in range(stations)]
        self.topic_prefix = f"bench/{uuid.uuid4().hex[:8]}"

    def topics_option(self, shared=False):
        share = "$share/bench/" if shared else ""
        if self.fmt == "ttn":
            return f"ttn_v3:{share}{self.topic_prefix}/v3/+/devices/+/up"
        return f"json:{share}{self.topic_prefix}/json/+"

    def message(self, n):
        device, i = self.devices[n % self.stations], n // self.stations
        if self.fmt == "ttn":
            return f"{self.topic_prefix}/v3/bench@ttn/devices/{device}/up", json.dumps(ttn_uplink(device, i)).encode()
        return f"{self.topic_prefix}/json/{device}", json.dumps(plain_reading(device, i)).encode()

    def sensors_yaml(self, resource_ids):
        entries = []
        for device, resource_id in zip(self.devices, resource_ids):
            if self.fmt == "ttn":
                entries.append(f"  - {{device: {device}, adapter: ttn_v3, resource_id: {resource_id}, "
                               f"measures: distance, field: Distance, field_unit: mm, mount_height: 400 cm}}")
            else:
                entries.append(f"  - {{device: {device}, adapter: json, resource_id: {resource_id}, "
                               f"field: level, field_unit: cm}}")
        return "devices:\n" + "\n".join(entries) + "\n"


# Phases


def publisher(port):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    return client


def publish_all(client, workload, first, last, rate=None, sent_at=None):
    """Publish readings first..last-1 (QoS 1), paced at ``rate``/s if given; returns the seconds from the
    first publish until the broker acknowledged all of them. Payloads are built beforehand, so that the
    publisher's rate is paho's, not the payload generator's."""
    messages = [workload.message(n) for n in range(first, last)]
    infos, start = [], time.monotonic()
    for n, (topic, payload) in enumerate(messages, start=first):
        if rate:
            delay = start + (n - first) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if sent_at is not None:
            sent_at[n] = time.monotonic()
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    return time.monotonic() - start


def publish_bulk(port, workload, first, last, directory):
    """Publish readings first..last-1 (QoS 1) with Mosquitto's own client, one ``mosquitto_pub -l`` per
    topic (device) fed from a file of payloads built beforehand; returns when the clients were started and
    the seconds until every one had ended (it ends after the broker acknowledged all its messages). About
    ten times the rate of one paho client on the same CPU, so that the live phase measures the worker,
    not the publisher."""
    import subprocess

    by_topic = {}
    for n in range(first, last):
        topic, payload = workload.message(n)
        by_topic.setdefault(topic, []).append(payload)
    inputs = []
    for k, (topic, payloads) in enumerate(by_topic.items()):
        path = directory / f"publish-{k}.jsonl"
        path.write_bytes(b"\n".join(payloads) + b"\n")
        inputs.append((topic, path))
    start, processes = time.monotonic(), []
    for topic, path in inputs:
        with path.open("rb") as lines:
            processes.append(subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                                               "-l", "-t", topic], stdin=lines))
    for process in processes:
        if process.wait(600):
            raise CannotRun(f"mosquitto_pub ended with status {process.returncode}")
    return start, time.monotonic() - start


def measure_latency(tables, workload, client, rate, seconds, poll_ms):
    """Publish at ``rate`` and record, per reading, publish -> visible to the read-only user."""
    import sqlalchemy as sa

    total = int(rate * seconds)
    sent_at, seen_at = {}, {}
    done = threading.Event()
    station_of = {rid: k for k, rid in enumerate(tables.ids)}

    def watch():
        last = {rid: BASE_TIME - dt.timedelta(seconds=1) for rid in tables.ids}
        # Autocommit: a transaction left open would keep the worker from altering the tables.
        with tables.read_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not done.is_set():
                for rid in tables.ids:
                    rows = connection.execute(sa.text(f'SELECT time FROM "{rid}" WHERE time > :last ORDER BY time'),
                                              {"last": last[rid]}).fetchall()
                    now = time.monotonic()
                    for (at,) in rows:
                        i = round((at - BASE_TIME).total_seconds())
                        seen_at[i * workload.stations + station_of[rid]] = now
                        last[rid] = at
                time.sleep(poll_ms / 1000)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        publish_all(client, workload, 0, total, rate=rate, sent_at=sent_at)
        wait_until(lambda: len(seen_at) >= total, 60, "not every reading of the latency phase became visible")
    finally:
        done.set()
        watcher.join(10)
    latencies = sorted(seen_at[n] - sent_at[n] for n in range(total))
    return {"readings": total, "rate": rate, "p50_s": pct(latencies, 50), "p95_s": pct(latencies, 95),
            "p99_s": pct(latencies, 99), "max_s": latencies[-1], "mean_s": statistics.fmean(latencies)}


def pct(sorted_values, p):
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(REPOSITORY / "test.ini"))
    parser.add_argument("--format", choices=("ttn", "json"), default="ttn")
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1,
                        help="ingest processes sharing the load through a $share/ subscription")
    parser.add_argument("--count", type=int, default=50_000, help="readings of each throughput phase")
    parser.add_argument("--rate", type=int, default=1000, help="readings/s of the latency phase")
    parser.add_argument("--seconds", type=int, default=30, help="duration of the latency phase")
    parser.add_argument("--poll-ms", type=int, default=5)
    parser.add_argument("--publisher", choices=("mosquitto_pub", "paho"), default="mosquitto_pub",
                        help="client publishing the live phase (paho: one paho client, as the other phases)")
    parser.add_argument("--fulltext-indexes", action="store_true",
                        help="keep the DataStore's full-text indexes on the series tables (as before they were "
                             "dropped), for comparison")
    parser.add_argument("--fts-index-field-types", default=None, metavar="TYPES",
                        help="with --fulltext-indexes: ckan.datastore.default_fts_index_field_types while the "
                             "series tables are created (default: as configured, CKAN's default 'text tsvector')")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="worker config option (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.chdir(REPOSITORY)
    try:
        result = run(args)
    except CannotRun as error:
        progress(f"cannot run: {error}")
        return 2
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


def run(args):
    progress("loading CKAN")
    load_ckan(args.config)
    from ckan.common import config

    if args.fts_index_field_types is not None:
        config["ckan.datastore.default_fts_index_field_types"] = args.fts_index_field_types.split()
    fts_types = " ".join(config.get("ckan.datastore.default_fts_index_field_types") or [])
    fulltext = f"_full_text and columns of type {fts_types}" if fts_types else "_full_text only"
    load_before = os.getloadavg()[0]
    workload = Workload(args.format, args.stations)
    tables = SeriesTables(args.stations, fulltext_indexes=args.fulltext_indexes)
    work = Path(tempfile.mkdtemp(prefix="pegel-ingest-bench-"))
    broker, workers = None, []
    try:
        (work / "mosquitto").mkdir()
        broker = Broker(work / "mosquitto")
        sensors = work / "sensors.yaml"
        sensors.write_text(workload.sensors_yaml(tables.ids))
        options = {"ckanext.pegel.mqtt_url": f"mqtt://127.0.0.1:{broker.port}",
                   "ckanext.pegel.mqtt_topics": workload.topics_option(shared=args.workers > 1),
                   "ckanext.pegel.sensors_file": sensors}
        if args.fulltext_indexes:  # the worker would drop them when it starts
            options["ckanext.pegel.ingest_slim_series_tables"] = "false"
        options.update(item.split("=", 1) for item in args.set)
        ini = work / "ingest.ini"
        ini.write_text(f"[app:main]\nuse = config:{Path(args.config).resolve()}\n"
                       + "".join(f"{key} = {value}\n" for key, value in options.items())
                       + "\n[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
                       "[logger_root]\nlevel = INFO\nhandlers = console\n[handler_console]\nclass = StreamHandler\n"
                       "args = (sys.stderr,)\nformatter = generic\n[formatter_generic]\n"
                       "format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s\n")
        run_id = uuid.uuid4().hex[:8]
        workers = [Worker(ini, work / f"ingest-{k}.log", f"bench-ingest-{run_id}-{k}") for k in range(args.workers)]
        progress(f"starting {args.workers} worker(s) (logs: {work}/ingest-*.log)")
        for worker in workers:
            worker.start()
        client = publisher(broker.port)
        n = 0

        progress(f"latency: {args.rate} readings/s for {args.seconds} s")
        latency = measure_latency(tables, workload, client, args.rate, args.seconds, args.poll_ms)
        n = latency["readings"]

        progress(f"sustained, live: {args.count} readings as fast as possible")
        watcher = RowWatcher(tables, n + args.count)
        if args.publisher == "paho":
            start = time.monotonic()
            publish_seconds = publish_all(client, workload, n, n + args.count)
        else:
            start, publish_seconds = publish_bulk(broker.port, workload, n, n + args.count, work)
        _, committed = watcher.wait(timeout=600)
        live = {"readings": args.count, "seconds": committed - start, "rate": args.count / (committed - start),
                "publish_rate": args.count / publish_seconds, "publisher": args.publisher}
        n += args.count

        progress(f"sustained, backlog: {args.count} readings queued while the worker is stopped")
        for worker in workers:
            worker.stop()
        publish_all(client, workload, n, n + args.count)
        watcher = RowWatcher(tables, n + args.count)
        for worker in workers:
            worker.launch()
        first, committed = watcher.wait(timeout=600)
        backlog = {"readings": args.count, "seconds": committed - first, "rate": args.count / (committed - first)}
        n += args.count
        client.loop_stop()
        client.disconnect()
        return {"format": args.format, "stations": args.stations, "workers": args.workers, "options": {k: str(v) for k, v in options.items()
                                                                               if k.startswith("ckanext.pegel.ingest")},
                "latency": latency, "live": live, "backlog": backlog, "published": n, "rows": tables.count(),
                "fulltext_indexes": fulltext if args.fulltext_indexes else "none",
                "load_average": [load_before, os.getloadavg()[0]], "cpus": os.cpu_count()}
    finally:
        for worker in workers:
            worker.stop()
        if broker:
            broker.stop()
        tables.drop()


def report(r):
    lat, live, backlog = r["latency"], r["live"], r["backlog"]
    lines = [
        f"MQTT ingest benchmark: {r['format']} payloads, {r['stations']} stations, {r['workers']} worker(s)"
        + (f", {r['options']}" if r["options"] else ""),
        f"series tables with full-text indexes on: {r['fulltext_indexes']}",
        f"load average {r['load_average'][0]:.1f} before, {r['load_average'][1]:.1f} after, {r['cpus']} CPUs"
        " (publisher, broker, worker and PostgreSQL share them)",
        "",
        f"latency at {lat['rate']}/s ({lat['readings']} readings), publish -> visible to the read-only user:",
        f"  p50 {lat['p50_s'] * 1000:.0f} ms  p95 {lat['p95_s'] * 1000:.0f} ms  p99 {lat['p99_s'] * 1000:.0f} ms"
        f"  max {lat['max_s'] * 1000:.0f} ms",
        f"sustained, live:    {live['rate']:>8,.0f} readings/s ({live['readings']} in {live['seconds']:.1f} s; "
        f"the publisher, {live.get('publisher', 'paho')}, managed {live['publish_rate']:,.0f}/s)",
        f"sustained, backlog: {backlog['rate']:>8,.0f} readings/s ({backlog['readings']} in {backlog['seconds']:.1f} s,"
        " first row to last)",
        f"rows stored: {r['rows']} of {r['published']} published"
        + (" (every reading once)" if r["rows"] == r["published"] else " -- INCOMPLETE, figures not valid"),
        "",
        "Targets",
        f"  sustained ingest >= {TARGET_RATE:,} readings/s   {'PASS' if live['rate'] >= TARGET_RATE else 'MISS'}  "
        f"{live['rate']:,.0f}/s (live, publish to committed)",
        f"  p99 latency <= {TARGET_P99:.0f} s at 1,000/s        "
        f"{'PASS' if lat['p99_s'] <= TARGET_P99 and lat['rate'] >= 1000 else 'MISS'}  {lat['p99_s'] * 1000:.0f} ms",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
