"""`ckan pegel ...`: water-level commands (registered by the cli blanket)."""
import logging
import signal
from pathlib import Path

import click

import ckan.plugins.toolkit as tk

__all__ = ["pegel"]

log = logging.getLogger(__name__)


@click.group(short_help="Water levels: sensor ingest, dead letters")
def pegel():
    """Water levels (ckanext-pegel)."""


def _sensors(path):
    from ckanext.pegel.ingest import mapping

    if path is None:
        path = tk.config.get("ckanext.pegel.sensors_file")
        if not path:
            raise click.ClickException("ckanext.pegel.sensors_file is not set (see config/sensors.example.yaml)")
    try:
        return mapping.load(Path(path))
    except mapping.SensorsFileError as error:
        raise click.ClickException(f"the sensors file has errors:\n{error}")


def _settings():
    from ckanext.pegel.ingest import settings

    try:
        return settings.from_config()
    except settings.SettingsError as error:
        raise click.ClickException(str(error))


@pegel.command()
@click.option("--client-id", default=None,
              help="MQTT client id (default: ckanext.pegel.mqtt_client_id); each worker needs its own, e.g. "
                   "when several share the load through $share/ topics")
def ingest(client_id):
    """Run the MQTT sensor ingest until stopped (SIGTERM or Ctrl-C)."""
    import dataclasses

    from ckanext.pegel.ingest import pipeline, store
    from ckanext.pegel.ingest.worker import IngestWorker

    settings = _settings()
    if client_id:
        settings = dataclasses.replace(settings, client_id=client_id)
    sensors = _sensors(settings.sensors_file)
    engine = store.write_engine()
    worker = IngestWorker(settings, pipeline.Decoder(sensors, settings.subscriptions, settings.max_payload_bytes),
                          pipeline.Resolver(engine), engine)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: worker.stop())
    worker.run()


@pegel.command(name="check-sensors")
@click.argument("path", type=click.Path(dir_okay=False), required=False)
def check_sensors(path):
    """Check a sensors file (default: ckanext.pegel.sensors_file) and find each device's series."""
    from ckanext.pegel.ingest import pipeline, store

    sensors = _sensors(path)
    resolver = pipeline.Resolver(store.write_engine())
    problems = 0
    for device in sensors.devices.values():
        resource_id, reason = resolver.resolve(device)
        if reason:
            problems += 1
            click.secho(f"line {device.line}: {device.device} ({device.adapter}): {reason}", fg="red")
        else:
            click.echo(f"line {device.line}: {device.device} ({device.adapter}) -> {resource_id}")
    if problems:
        raise click.ClickException(f"{problems} of {len(sensors.devices)} devices have no series")
    click.echo(f"{len(sensors.devices)} devices ok")


@pegel.command(name="dead-letters")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--topic-prefix", default=None, help="only messages whose topic starts with this")
@click.option("--payload/--no-payload", default=False, help="print the stored payloads too")
def dead_letters(limit, topic_prefix, payload):
    """List the newest messages the ingest could not store, with the reason."""
    from ckanext.pegel.ingest import deadletter, store

    engine = store.write_engine()
    deadletter.ensure_table(engine)
    for letter in deadletter.recent(engine, limit, topic_prefix):
        click.echo(f"{letter['id']:>8} {letter['received_at']:%Y-%m-%dT%H:%M:%SZ} {letter['topic']}: "
                   f"{letter['reason']}")
        if payload:
            click.echo(f"         {letter['payload']}{' [truncated]' if letter['truncated'] else ''}")


@pegel.command(name="replay-dead-letters")
@click.option("--limit", type=click.IntRange(1), default=10000, show_default=True)
@click.option("--topic-prefix", default=None, help="only messages whose topic starts with this")
def replay_dead_letters(limit, topic_prefix):
    """Decode dead letters again with the current sensors file; store the readings that now fit."""
    from ckanext.pegel.ingest import deadletter, pipeline, replay, store

    settings = _settings()
    sensors = _sensors(settings.sensors_file)
    engine = store.write_engine()
    deadletter.ensure_table(engine)
    counts = replay.replay(engine, pipeline.Decoder(sensors, settings.subscriptions, settings.max_payload_bytes),
                           pipeline.Resolver(engine), limit, topic_prefix)
    click.echo(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in sorted(counts.items()) if value)
               or "no dead letters")


@pegel.command()
@click.option("--once", is_flag=True, help="one round, then exit (for cron or a scheduler)")
@click.option("--interval", type=click.IntRange(10), default=None,
              help="seconds between rounds (default: ckanext.pegel.poll_interval)")
def poll(once, interval):
    """Poll PEGELONLINE's current water levels into the series tables of the harvested stations."""
    import threading

    from ckanext.pegel import poller

    if once:
        report = poller.poll_once()
        click.echo(f"{report.stations} stations, {report.readings} readings, {report.inserted} new")
        for error in report.errors:
            click.secho(error, fg="red", err=True)
        if report.errors:
            raise click.exceptions.Exit(1)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *args: stop.set())
    poller.run(interval or tk.config.get("ckanext.pegel.poll_interval"), stop)
