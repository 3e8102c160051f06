"""Benchmark: CPU time of the MQTT ingest worker per message, by thread, with and without its fast paths.

Where ``pegel_ingest.py`` measures readings/s end to end (publisher, broker, worker and PostgreSQL share
the CPUs, so its figures move with whatever else runs), this script measures what one message costs the
worker itself: the CPU time (``time.thread_time``) of paho's network thread (receive, decode, buffer) and
of the writer thread (check, write, acknowledge) while one in-process ``IngestWorker`` drains a backlog
of ``--count`` The Things Stack uplinks from a Mosquitto of its own into 10 series tables. CPU time is
far less disturbed by other load than wall time.

Variants, run alternately ``--repeat`` times each (the report gives the median):

- ``current``: the worker as shipped;
- ``paho loop``: paho's own receive loop (one packet per ``select()``, about 4 ``recv()`` per packet)
  instead of the worker's read-ahead;
- ``stdlib json``: the standard library's JSON parser instead of msgspec;
- ``before``: both (the worker before these changes).

``--profile`` prints the top functions of each thread (cProfile) for the current worker instead.

Usage (from the repository root, services up; only the DataStore test database is used)::

    .venv/bin/python benchmarks/pegel_ingest_cpu.py
    .venv/bin/python benchmarks/pegel_ingest_cpu.py --count 50000 --repeat 5
    .venv/bin/python benchmarks/pegel_ingest_cpu.py --profile

Exit status 0 when it measured, 2 when it could not run.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _pegel_ingest_services import REPOSITORY, Broker, CannotRun, SeriesTables, load_ckan
from pegel_ingest import Workload, publish_all, publisher

VARIANTS = {
    "current": {},
    "paho loop": {"paho_loop": True},
    "stdlib json": {"stdlib_json": True},
    "before": {"paho_loop": True, "stdlib_json": True},
}


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run_once(port, count, paho_loop=False, stdlib_json=False, profile=False):
    """Drain a backlog of ``count`` uplinks with an in-process worker; returns CPU µs per message of the
    network and the writer thread (and their profiles)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    from ckanext.pegel.ingest import adapters, mapping, pipeline, settings, store
    from ckanext.pegel.ingest import worker as worker_module

    tables = SeriesTables(10)
    saved = worker_module._FAST_RECEIVE, adapters._LAYOUTS, adapters.decode_json
    try:
        worker_module._FAST_RECEIVE = not paho_loop
        if stdlib_json:
            adapters._LAYOUTS, adapters.decode_json = {}, adapters._decode_json_slowly
        workload = Workload("ttn", 10)
        subscriptions = settings.parse_topics(workload.topics_option())
        client_id = f"bench-cpu-{uuid.uuid4().hex[:8]}"
        config = settings.Settings(
            host="127.0.0.1", port=port, tls=False, username=None, password=None, ca_file=None,
            client_id=client_id, subscriptions=subscriptions, session_expiry=600, sensors_file=Path("-"),
            batch_size=1000, batch_seconds=0.25, max_pending=10000, max_payload_bytes=16384,
            backoff_max_seconds=5, dead_letter_days=30)
        # The session and its subscription first, then the backlog, then the worker.
        session = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 600
        session.connect("127.0.0.1", port, clean_start=False, properties=properties)
        session.subscribe(subscriptions[0].topic, options=SubscribeOptions(qos=1))
        for _ in range(20):
            session.loop(0.05)
        session.disconnect()
        client = publisher(port)
        publish_all(client, workload, 0, count)
        client.disconnect()
        client.loop_stop()

        engine = store.write_engine()
        worker = worker_module.IngestWorker(
            config, pipeline.Decoder(mapping.parse(workload.sensors_yaml(tables.ids)), subscriptions, 16384),
            pipeline.Resolver(engine, slim=False), engine)
        network = {}
        thread_main = worker.client._thread_main

        def measured_thread_main():
            profiler = cProfile.Profile() if profile else None
            started = time.thread_time()
            if profiler:
                profiler.enable()
            try:
                thread_main()
            finally:
                if profiler:
                    profiler.disable()
                network.update(cpu=time.thread_time() - started, profile=profiler)

        worker.client._thread_main = measured_thread_main

        def stop_when_done():
            while worker.totals["messages"] < count:
                time.sleep(0.02)
            worker.stop()

        threading.Thread(target=stop_when_done, daemon=True).start()
        profiler = cProfile.Profile() if profile else None
        started = time.thread_time()
        if profiler:
            profiler.enable()
        worker.run()
        if profiler:
            profiler.disable()
        writer_cpu = time.thread_time() - started
        if tables.count() != count:
            raise CannotRun(f"{tables.count()} rows stored of {count}")
        return {"network_us": network["cpu"] / count * 1e6, "writer_us": writer_cpu / count * 1e6,
                "profiles": (network["profile"], profiler)}
    finally:
        worker_module._FAST_RECEIVE, adapters._LAYOUTS, adapters.decode_json = saved
        tables.drop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(REPOSITORY / "test.ini"))
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    os.chdir(REPOSITORY)
    progress("loading CKAN")
    load_ckan(args.config)
    work = Path(tempfile.mkdtemp(prefix="pegel-ingest-cpu-"))
    (work / "mosquitto").mkdir()
    broker = Broker(work / "mosquitto")
    try:
        if args.profile:
            result = run_once(broker.port, args.count, profile=True)
            for name, profile in zip(("network thread", "writer thread"), result["profiles"]):
                print(f"===== {name}: {result[name.split()[0] + '_us']:.1f} µs CPU per message")
                pstats.Stats(profile).sort_stats("tottime").print_stats(20)
            return 0
        figures = {name: [] for name in VARIANTS}
        for round_ in range(args.repeat):
            for name, variant in VARIANTS.items():
                progress(f"round {round_ + 1}/{args.repeat}: {name}")
                figures[name].append(run_once(broker.port, args.count, **variant))
    except CannotRun as error:
        progress(f"cannot run: {error}")
        return 2
    finally:
        broker.stop()
    load = os.getloadavg()[0]
    print(f"Ingest worker CPU per message ({args.count} TTS uplinks from a backlog, median of {args.repeat}; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'variant':<14} {'network thread':>15} {'writer thread':>14} {'total':>8}")
    current = None
    for name, runs in figures.items():
        network = statistics.median(r["network_us"] for r in runs)
        writer = statistics.median(r["writer_us"] for r in runs)
        current = current or network + writer
        print(f"{name:<14} {network:>12.1f} µs {writer:>11.1f} µs {network + writer:>5.1f} µs"
              f"  ({(network + writer) / current:.2f}x current)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
