"""Processes and tables of the ingest benchmark (pegel_ingest.py): its own Mosquitto, the worker
processes, the series tables and a row counter."""
import getpass
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


class CannotRun(Exception):
    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    def __init__(self, directory):
        self.port = free_port()
        template = string.Template((REPOSITORY / "config" / "mosquitto.conf").read_text())
        self.config = directory / "mosquitto.conf"
        self.config.write_text(template.substitute(
            port=self.port, data_dir=directory, log_file=directory / "mosquitto.log",
            pid_file=directory / "mosquitto.pid", user=getpass.getuser()) + "\nmax_queued_messages 0\n")
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(lambda: _port_open(self.port), 10, "Mosquitto did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(20)


def _port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_until(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise CannotRun(message)
        time.sleep(0.05)


class Worker:
    """``ckan -c INI pegel ingest`` as a process; ``start()`` waits for its subscription."""

    def __init__(self, ini, log, client_id):
        self.ini, self.log, self.client_id, self.process, self.starts = ini, log, client_id, None, 0

    def start(self):
        self.launch()
        self.wait_subscribed()

    def launch(self):
        ckan = Path(sys.executable).with_name("ckan")
        self.process = subprocess.Popen([str(ckan), "-c", str(self.ini), "pegel", "ingest", "--client-id",
                                         self.client_id],
                                        stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.starts += 1

    def wait_subscribed(self):
        wait_until(lambda: self._log().count("subscribed to") >= self.starts or self.process.poll() is not None,
                   120, f"the worker did not subscribe; see {self.log}")
        if self.process.poll() is not None:
            raise CannotRun(f"the worker ended; see {self.log}:\n{self._log()[-2000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)

    def _log(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def load_ckan(config_path):
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    config = load_config(str(config_path))
    app = make_app(config)
    return config, app


class SeriesTables:
    """Series tables created by the DataStore backend under fresh resource ids (no CKAN resource), then
    stripped of their full-text indexes as ``series.ensure_series_table`` does, unless
    ``fulltext_indexes`` (the DataStore's defaults, as series tables had them before)."""

    def __init__(self, count, fulltext_indexes=False):
        from ckanext.datastore.backend import DatastoreBackend
        from ckanext.datastore.backend.postgres import get_read_engine, get_write_engine
        from ckanext.pegel.series import SERIES_FIELDS, SERIES_PRIMARY_KEY, drop_fulltext_indexes

        self.backend = DatastoreBackend.get_active_backend()
        self.write_engine, self.read_engine = get_write_engine(), get_read_engine()
        database = self.write_engine.url.database or ""
        if "test" not in database:
            raise CannotRun(f"the DataStore database {database!r} is not a test database")
        self.ids = [str(uuid.uuid4()) for _ in range(count)]
        for resource_id in self.ids:
            self.backend.create({}, {"resource_id": resource_id, "fields": SERIES_FIELDS,
                                     "primary_key": SERIES_PRIMARY_KEY, "records": []}, {})
            if not fulltext_indexes:
                drop_fulltext_indexes(resource_id, self.write_engine)

    def count(self):
        import sqlalchemy as sa

        union = " UNION ALL ".join(f'SELECT count(*) AS n FROM "{rid}"' for rid in self.ids)
        with self.read_engine.connect() as connection:
            return int(connection.execute(sa.text(f"SELECT sum(n) FROM ({union}) AS c")).scalar() or 0)

    def drop(self):
        import sqlalchemy as sa

        with self.write_engine.begin() as connection:
            for resource_id in self.ids:
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{resource_id}" CASCADE'))


class RowWatcher(threading.Thread):
    """Counts the rows of the series tables every ``interval`` s from its start: when they first grew
    and when they reached ``expected``."""

    def __init__(self, tables, expected, interval=0.01):
        super().__init__(daemon=True)
        self.tables, self.expected, self.interval = tables, expected, interval
        self.first_growth = self.complete = None
        self.rows = self.initial = tables.count()
        self.start()

    def run(self):
        while self.rows < self.expected:
            time.sleep(self.interval)
            self.rows = self.tables.count()
            if self.first_growth is None and self.rows > self.initial:
                self.first_growth = time.monotonic()
        self.complete = time.monotonic()

    def wait(self, timeout):
        self.join(timeout)
        if self.complete is None:
            raise CannotRun(f"only {self.rows} of {self.expected} rows after {timeout} s")
        return self.first_growth, self.complete
