"""The local stack commands on real processes: duplicates, and failures that name their cause.

Each test runs scripts/stack.py in a state directory and on ports of its own, so it never touches the
stack that serves the other tests.
"""
import os
import shutil
import socket
import string
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
STACK = PROJECT / "scripts" / "stack.py"
SERVICES = ("pg", "solr", "redis", "mqtt", "ckan")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """scripts/stack.py bound to one state directory and one set of free ports."""

    def __init__(self, state):
        self.state = state
        self.ports = {service: free_port() for service in SERVICES}

    def __call__(self, *args, env=None):
        env = {**os.environ, "SW_STATE_DIR": str(self.state), "SW_START_TIMEOUT": "60",
               **{f"SW_{service.upper()}_PORT": str(port) for service, port in self.ports.items()}, **(env or {})}
        return subprocess.run([sys.executable, str(STACK), *args], env=env, capture_output=True, text=True,
                              timeout=240)


@pytest.fixture
def stack():
    # Under the project (not /tmp, whose pytest folders are private to root): when the tests run as
    # root, PostgreSQL runs as the 'postgres' user and must be able to reach its data directory.
    state = PROJECT / "var" / "test" / f"stack-{uuid.uuid4().hex[:8]}"
    state.mkdir(parents=True)
    instance = Stack(state)
    yield instance
    instance("stop")
    shutil.rmtree(state, ignore_errors=True)


def assert_clean_failure(result, *fragments):
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_port_taken_by_another_program_is_named(stack):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack.ports["redis"]))
        squatter.listen()

        result = stack("start", "redis")

    assert_clean_failure(result, f"port {stack.ports['redis']} for Redis is taken by")
    if os.geteuid() == 0:  # only root sees the pids of every listener
        assert f"pid {os.getpid()}" in result.stderr


def test_starting_twice_starts_no_duplicate(stack):
    first = stack("start", "redis")
    pid = (stack.state / "run" / "redis.pid").read_text()

    second = stack("start", "redis")

    assert first.returncode == 0 and "Redis: started" in first.stdout
    assert second.returncode == 0 and "Redis: running" in second.stdout
    assert (stack.state / "run" / "redis.pid").read_text() == pid
    listeners = subprocess.run(["pgrep", "-f", f"redis-server 127.0.0.1:{stack.ports['redis']}"],
                               capture_output=True, text=True).stdout.split()
    assert listeners == [pid.strip()]

    stack("stop", "redis")
    assert stack("status", "redis").stdout.split()[1] == "down"


def test_status_of_a_stopped_service_is_down_and_fails(stack):
    result = stack("status", "mosquitto")

    assert result.returncode == 1
    assert result.stdout.split()[:2] == ["Mosquitto", "down"]


def test_solr_core_that_fails_to_load_stops_start(stack):
    built = PROJECT / "var" / "solr"
    if not (built / "home" / "solr.xml").exists():
        pytest.fail("Solr is not built: run `make setup`")
    solr = stack.state / "solr"
    solr.mkdir()
    (solr / "lib").symlink_to(built / "lib")
    shutil.copytree(built / "home", solr / "home", ignore=shutil.ignore_patterns("data"))
    schema = solr / "home" / "configsets" / "ckan" / "conf" / "schema.xml"
    schema.write_text(schema.read_text().replace("solr.GermanLightStemFilterFactory", "solr.NoSuchStemFilterFactory"))

    result = stack("start", "solr")

    assert_clean_failure(result, "Solr did not start", "core 'ckan' failed to load", "NoSuchStemFilterFactory")
    assert "READY" not in (stack.state / "log" / "solr.log").read_text()


def test_database_that_does_not_come_up_stops_start(stack):
    data = stack.state / "postgresql"
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1]
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data.mkdir()
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run([*as_postgres, str(initdb), "-D", str(data), "-U", "postgres"], check=True, capture_output=True)
    (data / "global" / "pg_control").unlink()  # what a lost or corrupted control file looks like

    result = stack("start", "postgresql")

    assert_clean_failure(result, "PostgreSQL did not come up", "pg_control")


# --- the water-level workers -----------------------------------------------------------------------

PEGEL_WORKERS = ("pegel-poll", "pegel-ingest")


def write_dev_config(stack, sensors_file=True):
    """Render config/development.ini into the stack's state directory as `make setup` does, with the
    test's own broker; the databases, Solr and Redis are the test run's (CKAN_* variables, see ckan_env)."""
    template = string.Template((PROJECT / "config" / "development.ini").read_text())
    text = template.substitute(
        project_dir=PROJECT, state_dir=stack.state, ckan_port=stack.ports["ckan"], pg_port=stack.ports["pg"],
        solr_port=stack.ports["solr"], redis_port=stack.ports["redis"], mqtt_port=stack.ports["mqtt"],
        ckan_db_password="unused", datastore_ro_password="unused", secret_key="test-secret")
    if not sensors_file:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("ckanext.pegel.sensors_file"))
    (stack.state / "development.ini").write_text(text)


@pytest.fixture
def ckan_env(ckan_config):
    """CKAN reads these variables over its config file: the workers use the test databases."""
    return {"CKAN_SQLALCHEMY_URL": ckan_config["sqlalchemy.url"],
            "CKAN_DATASTORE_WRITE_URL": ckan_config["ckan.datastore.write_url"],
            "CKAN_DATASTORE_READ_URL": ckan_config["ckan.datastore.read_url"],
            "CKAN_SOLR_URL": ckan_config["solr_url"], "CKAN_REDIS_URL": ckan_config["ckan.redis.url"],
            "CKAN_SITE_ID": ckan_config["ckan.site_id"]}


def worker_pids(stack):
    return {name: int((stack.state / "run" / f"{name}.pid").read_text()) for name in PEGEL_WORKERS}


def processes_running(stack, command):
    """Pids of the processes running `ckan -c <this stack's config> pegel <command>`."""
    pattern = f"ckan -c {stack.state / 'development.ini'} pegel {command}"
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()


def wait_for_line(path, fragment, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and fragment in path.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


def test_water_level_workers_start_once_show_up_and_stop(stack, ckan_env):
    assert stack("start", "mosquitto").returncode == 0
    write_dev_config(stack)

    first = stack("start", *PEGEL_WORKERS, env=ckan_env)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "PEGELONLINE poller: started" in first.stdout
    assert "Sensor ingest (MQTT): started" in first.stdout
    # The ingest really reached the stack's broker with the example sensors file.
    assert wait_for_line(stack.state / "log" / "pegel-ingest.log", "subscribed to"), \
        (stack.state / "log" / "pegel-ingest.log").read_text()
    pids = worker_pids(stack)
    status = stack("status", *PEGEL_WORKERS)
    assert status.returncode == 0, status.stdout
    lines = status.stdout.splitlines()
    assert lines[0].startswith("PEGELONLINE poller") and f"up (pid {pids['pegel-poll']})" in lines[0]
    assert lines[1].startswith("Sensor ingest (MQTT)") and f"up (pid {pids['pegel-ingest']})" in lines[1]

    second = stack("start", *PEGEL_WORKERS, env=ckan_env)

    assert second.returncode == 0, second.stdout + second.stderr
    assert "PEGELONLINE poller: running" in second.stdout and "Sensor ingest (MQTT): running" in second.stdout
    assert worker_pids(stack) == pids
    assert processes_running(stack, "poll") == [str(pids["pegel-poll"])]
    assert processes_running(stack, "ingest") == [str(pids["pegel-ingest"])]

    stopped = stack("stop", *PEGEL_WORKERS)

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert processes_running(stack, "poll") == [] and processes_running(stack, "ingest") == []
    after = stack("status", *PEGEL_WORKERS)
    assert after.returncode == 1
    assert [line.split()[-1] for line in after.stdout.splitlines()] == ["down", "down"]
    # Stopped cleanly on SIGTERM, not killed.
    assert "stopped:" in (stack.state / "log" / "pegel-ingest.log").read_text()


def test_ingest_without_sensors_file_is_skipped_not_crash_looping(stack, ckan_env):
    write_dev_config(stack, sensors_file=False)

    result = stack("start", "pegel-ingest", env=ckan_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sensor ingest (MQTT): not started" in result.stdout
    assert "ckanext.pegel.sensors_file" in result.stdout
    assert not (stack.state / "run" / "pegel-ingest.pid").exists()
    assert processes_running(stack, "ingest") == []
    status = stack("status", "pegel-ingest")
    assert status.returncode == 0
    assert "off (no ckanext.pegel.sensors_file)" in status.stdout
