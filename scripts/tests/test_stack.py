"""The local stack commands on real processes: duplicates, and failures that name their cause.

Each test runs scripts/stack.py in a state directory and on ports of its own, so it never touches the
stack that serves the other tests.
"""
import os
import shutil
import socket
import subprocess
import sys
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

    def __call__(self, *args):
        env = {**os.environ, "SW_STATE_DIR": str(self.state), "SW_START_TIMEOUT": "60",
               **{f"SW_{service.upper()}_PORT": str(port) for service, port in self.ports.items()}}
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
