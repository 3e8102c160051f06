#!/usr/bin/env python3
"""The bundle's local stack: PostgreSQL, Solr, Redis, Mosquitto and CKAN with its workers, no Docker.

Standard library only, so that it runs before the virtualenv exists. The Makefile calls it:

    stack.py setup                  build Solr, create databases, migrate, write the config, add a sysadmin
    stack.py start [--services|NAME...]   start the services (reusing running ones), then CKAN and its workers
    stack.py stop [NAME...]               stop what this project started
    stack.py status [NAME...]             one line per service: up, down, or reused

Everything it writes lives under the state directory (``var/``, or ``$SW_STATE_DIR``). A command that
cannot do its job says why on stderr and exits 1: a port taken by another program, a Solr core that
fails to load, a database that does not come up.
"""
from __future__ import annotations

import argparse
import getpass
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SW_STATE_DIR", PROJECT / "var")).resolve()
VENV = Path(os.environ.get("SW_VENV", PROJECT / ".venv"))
LOG, RUN = STATE / "log", STATE / "run"
DEV_INI = STATE / "development.ini"
TEST_INI = PROJECT / "test.ini"

PORTS = {
    "postgresql": int(os.environ.get("SW_PG_PORT", 55432)),
    "solr": int(os.environ.get("SW_SOLR_PORT", 8983)),
    "redis": int(os.environ.get("SW_REDIS_PORT", 6379)),
    "mosquitto": int(os.environ.get("SW_MQTT_PORT", 1883)),
    "ckan": int(os.environ.get("SW_CKAN_PORT", 5000)),
}
SOLR_VERSION = "9.10.1"  # keep in step with config/solr/pom.xml
SOLR_CORES = ("ckan", "ckan_test")
HARVEST_INTERVAL = int(os.environ.get("SW_HARVEST_INTERVAL", 60))
START_TIMEOUT = int(os.environ.get("SW_START_TIMEOUT", 120))


class StackError(Exception):
    """A failure the operator can act on; printed without a traceback."""


# --- small helpers -------------------------------------------------------------------------------

def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def run(cmd, *, check=True, capture=True, input=None, env=None, cwd=None) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, text=True, capture_output=capture, input=input, env=env, cwd=cwd)
    if check and result.returncode != 0:
        output = ((result.stdout or "") + (result.stderr or "")).strip()
        raise StackError(f"{' '.join(map(str, cmd[:4]))} ... failed (exit {result.returncode}):\n{tail(output)}")
    return result


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.splitlines()[-lines:])


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return tail(path.read_text(errors="replace"), lines)
    except FileNotFoundError:
        return "(no log written)"


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def listener_of(port: int) -> str:
    """Name the process listening on a port (best effort: ss needs root to see other users' pids)."""
    ss = shutil.which("ss")
    if ss:
        out = run([ss, "-Hltnp", f"sport = :{port}"], check=False).stdout
        match = re.search(r'\("([^"]+)",pid=(\d+)', out)
        if match:
            return f"{match.group(1)} (pid {match.group(2)})"
    return "another program"


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not alive for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def http_ok(url: str, timeout: float = 3) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def wait_for(check, what: str, *, pid: int | None = None, log: Path | None = None, timeout: int = START_TIMEOUT):
    """Poll ``check`` until it is true; fail early if the process died, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not pid_alive(pid):
            raise StackError(f"{what} exited during start-up. Last lines of {log}:\n{log_tail(log)}")
        time.sleep(0.5)
    raise StackError(f"{what} did not become ready within {timeout} s. Last lines of {log}:\n{log_tail(log)}")


def as_service_user(cmd: list) -> list:
    """PostgreSQL refuses to run as root: when we are root, run it as the 'postgres' system user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *map(str, cmd)]


def service_user_owns(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def venv_bin(name: str) -> str:
    path = VENV / "bin" / name
    if not path.exists():
        raise StackError(f"{path} is missing: run `make setup` first")
    return str(path)


def ckan(ini: Path, *args, **kwargs) -> subprocess.CompletedProcess:
    return run([venv_bin("ckan"), "-c", str(ini), *args], **kwargs)


# --- services ------------------------------------------------------------------------------------

class Service:
    """A server on a loopback port. Subclasses say how to start it and how to tell that it answers."""

    name = ""
    label = ""

    @property
    def port(self) -> int:
        return PORTS[self.name]

    @property
    def log(self) -> Path:
        return LOG / f"{self.name}.log"

    @property
    def pidfile(self) -> Path:
        return RUN / f"{self.name}.pid"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def ours(self) -> bool:
        return pid_alive(self.pid())

    def healthy(self) -> bool:
        raise NotImplementedError

    def launch(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self.healthy():
            how = "running" if self.ours() else "reusing the one already listening (not started by this project)"
            say(f"{self.label}: {how}" + (f" on 127.0.0.1:{self.port}" if self.port else f" (pid {self.pid()})"))
            return
        if self.ours():
            raise StackError(f"{self.label} (pid {self.pid()}) is running but does not answer on port {self.port}; "
                             f"see {self.log} or run `make stop`")
        if self.port is not None and port_in_use(self.port):
            raise StackError(f"port {self.port} for {self.label} is taken by {listener_of(self.port)}. "
                             f"Stop that program or choose another port (see README, 'Ports').")
        self.launch()
        say(f"{self.label}: started" + (f" on 127.0.0.1:{self.port}" if self.port else f" (pid {self.pid()})"))

    def stop(self) -> None:
        pid = self.pid()
        if not pid_alive(pid):
            self.pidfile.unlink(missing_ok=True)
            return
        terminate(pid, self.label)
        self.pidfile.unlink(missing_ok=True)

    def status(self) -> str:
        if self.healthy():
            return "up" if self.ours() else "up (reused, not started by this project)"
        if self.ours():
            return f"running (pid {self.pid()}) but not answering"
        return "down"


def terminate(pid: int, label: str, timeout: float = 20) -> None:
    """SIGTERM the process group, escalate to SIGKILL after ``timeout`` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        say(f"{label} did not stop within {timeout:.0f} s; killing it")
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    say(f"{label}: stopped")


def spawn(name: str, cmd: list, env: dict | None = None) -> int:
    """Start a long-running process in its own session, output to log/NAME.log, pid to run/NAME.pid."""
    with open(LOG / f"{name}.log", "ab") as log:
        process = subprocess.Popen(list(map(str, cmd)), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=PROJECT, env={**os.environ, **(env or {})})
    (RUN / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


class PostgreSQL(Service):
    name, label = "postgresql", "PostgreSQL"
    data = STATE / "postgresql"
    socket_dir = RUN / "postgresql"

    @staticmethod
    def bin(tool: str) -> str:
        candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
        if candidates:
            return candidates[-1]
        found = shutil.which(tool)
        if not found:
            raise StackError(f"PostgreSQL's {tool} is not installed: run `make setup`")
        return found

    def pid(self) -> int | None:
        return read_pid(self.data / "postmaster.pid")

    def healthy(self) -> bool:
        return run([self.bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "2"],
                   check=False).returncode == 0

    def initialise(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        service_user_owns(self.data)
        say("PostgreSQL: creating the cluster in " + str(self.data))
        run(as_service_user([self.bin("initdb"), "-D", self.data, "-U", "postgres", "-E", "UTF8",
                             "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"]))

    def launch(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            raise StackError(f"no PostgreSQL cluster in {self.data}: run `make setup` first")
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        service_user_owns(self.socket_dir)
        self.log.touch()
        service_user_owns(self.log)
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.socket_dir}")
        result = run(as_service_user([self.bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                                      "-t", str(START_TIMEOUT), "-o", options, "start"]), check=False)
        if result.returncode != 0:
            fatal = [line for line in log_tail(self.log, 40).splitlines() if "FATAL" in line or "PANIC" in line]
            cause = "\n".join(fatal[-3:]) or log_tail(self.log)
            raise StackError(f"PostgreSQL did not come up (see {self.log}):\n{cause}")

    def stop(self) -> None:
        if self.ours():
            run(as_service_user([self.bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"]), check=False)
            say("PostgreSQL: stopped")

    def can_log_in(self, role: str, password: str) -> bool:
        """Whether the role logs in over TCP with this password, as CKAN will."""
        return run([self.bin("psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", role,
                    "-d", "postgres", "-c", "SELECT 1"], check=False,
                   env={**os.environ, "PGPASSWORD": password}).returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the cluster's superuser over the project-local socket."""
        return run(as_service_user([self.bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                    "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres", "-d", database]),
                   input=sql).stdout.strip()


class Solr(Service):
    name, label = "solr", "Solr"
    root = STATE / "solr"
    lib = root / "lib"
    home = root / "home"

    def healthy(self) -> bool:
        return all(http_ok(f"http://127.0.0.1:{self.port}/solr/{core}/admin/ping?wt=json") for core in SOLR_CORES)

    def build(self) -> None:
        """Resolve Solr's jars from Maven Central (once per Solr version)."""
        marker = self.lib / f".solr-{SOLR_VERSION}"
        if marker.exists():
            return
        say(f"Solr: resolving Solr {SOLR_VERSION} jars from Maven Central into {self.lib}")
        shutil.rmtree(self.lib, ignore_errors=True)
        run(["mvn", "-q", "-B", "-f", PROJECT / "config/solr/pom.xml", "dependency:copy-dependencies",
             f"-DoutputDirectory={self.lib}", "-DincludeScope=runtime"])
        marker.touch()

    def configure(self, ckan_schema: Path) -> None:
        """Write the solr home: one config set (CKAN's schema, German, bbox fields) shared by both cores."""
        conf = self.home / "configsets" / "ckan" / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (self.home / "solr.xml").write_text("<solr/>\n")
        shutil.copy(PROJECT / "config/solr/solrconfig.xml", conf / "solrconfig.xml")
        run([sys.executable, PROJECT / "config/solr/build_schema.py", ckan_schema, conf / "schema.xml"])
        for name in ("synonyms.txt", "protwords.txt"):
            shutil.copy(PROJECT / "config/solr" / name, conf / name)
        for core in SOLR_CORES:
            (self.home / core).mkdir(exist_ok=True)
            (self.home / core / "core.properties").write_text(f"name={core}\nconfigSet=ckan\n")

    def launch(self) -> None:
        if not (self.lib / f".solr-{SOLR_VERSION}").exists() or not (self.home / "solr.xml").exists():
            raise StackError(f"Solr is not built in {self.root}: run `make setup` first")
        self.log.write_text("")
        pid = spawn(self.name, [
            "java", "-Xmx512m", "-Djava.awt.headless=true", f"-Dsolr.log.dir={LOG}",
            f"-Dlog4j2.configurationFile={PROJECT / 'config/solr/log4j2.xml'}",
            "-cp", f"{self.lib}/*", PROJECT / "config/solr/SolrLauncher.java", self.home, self.port])

        def ready():
            text = self.log.read_text(errors="replace")
            if "FATAL:" in text:
                failures = "\n".join(line for line in text.splitlines() if line.startswith("FATAL:"))
                raise StackError(f"Solr did not start (see {self.log}):\n{failures}")
            return "READY:" in text

        wait_for(ready, "Solr", pid=pid, log=self.log)


class Redis(Service):
    name, label = "redis", "Redis"

    def healthy(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def launch(self) -> None:
        data = STATE / "redis"
        data.mkdir(exist_ok=True)
        run(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(data),
             "--daemonize", "yes", "--pidfile", str(self.pidfile), "--logfile", str(self.log),
             "--save", "60 1", "--appendonly", "no"])
        wait_for(self.healthy, "Redis", log=self.log, timeout=30)


class Mosquitto(Service):
    name, label = "mosquitto", "Mosquitto"
    # MQTT 3.1.1 CONNECT with an empty client id and a clean session; the broker answers CONNACK 0.
    CONNECT = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 0])

    def healthy(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(self.CONNECT)
                ok = sock.recv(4) == bytes([0x20, 2, 0, 0])
                sock.sendall(bytes([0xE0, 0]))  # DISCONNECT
                return ok
        except OSError:
            return False

    def launch(self) -> None:
        data = STATE / "mosquitto"
        data.mkdir(exist_ok=True)
        template = string.Template((PROJECT / "config/mosquitto.conf").read_text())
        conf = data / "mosquitto.conf"
        conf.write_text(template.substitute(port=self.port, data_dir=data, log_file=self.log,
                                            pid_file=self.pidfile, user=getpass.getuser()))
        run(["mosquitto", "-c", str(conf), "-d"])
        wait_for(self.healthy, "Mosquitto", log=self.log, timeout=30)


class CkanProcess(Service):
    """One CKAN process from the virtualenv (web server, consumers, worker) run with the dev config."""

    def __init__(self, name: str, label: str, *args: str, port: int | None = None):
        self.name, self.label, self.args, self._port = name, label, args, port

    @property
    def port(self) -> int:
        return self._port

    def healthy(self) -> bool:
        if self._port is None:
            return self.ours()
        return http_ok(f"http://127.0.0.1:{self._port}/api/3/action/status_show")

    def launch(self) -> None:
        pid = spawn(self.name, self.command())
        if self._port is not None:
            wait_for(self.healthy, self.label, pid=pid, log=self.log)
        else:
            time.sleep(1)
            if not pid_alive(pid):
                raise StackError(f"{self.label} exited at once. Last lines of {self.log}:\n{log_tail(self.log)}")

    def command(self) -> list:
        return [venv_bin("ckan"), "-c", DEV_INI, *self.args]

    def status(self) -> str:
        if self._port is None:
            return f"up (pid {self.pid()})" if self.ours() else "down"
        return super().status()


class HarvestScheduler(CkanProcess):
    """Runs `ckan harvester run` every SW_HARVEST_INTERVAL seconds: it starts queued jobs and marks
    finished ones; without it jobs stay "Running" forever."""

    def command(self) -> list:
        return [sys.executable, Path(__file__).resolve(), "harvest-scheduler"]


class SensorIngest(CkanProcess):
    """`ckan pegel ingest`, the MQTT worker of the municipalities' sensors. It refuses to run without a sensors
    file, so it is started only when the dev config names one (config/development.ini points at
    config/sensors.example.yaml; a var/development.ini written before that may lack the setting)."""

    SETTING = re.compile(r"^\s*ckanext\.pegel\.sensors_file\s*=\s*\S", re.MULTILINE)

    def configured(self) -> bool:
        try:
            return bool(self.SETTING.search(DEV_INI.read_text()))
        except FileNotFoundError:
            return False

    def start(self) -> None:
        if not self.ours() and not self.configured():
            say(f"{self.label}: not started, {DEV_INI} sets no ckanext.pegel.sensors_file "
                f"(see config/sensors.example.yaml)")
            return
        super().start()

    def status(self) -> str:
        if not self.ours() and not self.configured():
            return "off (no ckanext.pegel.sensors_file)"
        return super().status()


SERVICES = [PostgreSQL(), Solr(), Redis(), Mosquitto()]
CKAN_PROCESSES = [
    CkanProcess("ckan", "CKAN", "run", "-H", "127.0.0.1", "-p", str(PORTS["ckan"]), "--disable-reloader",
                "--threaded", port=PORTS["ckan"]),
    CkanProcess("harvest-gather", "Harvest gather consumer", "harvester", "gather-consumer"),
    CkanProcess("harvest-fetch", "Harvest fetch consumer", "harvester", "fetch-consumer"),
    CkanProcess("jobs-worker", "Background jobs worker", "jobs", "worker"),
    HarvestScheduler("harvest-scheduler", "Harvest scheduler"),
    CkanProcess("pegel-poll", "PEGELONLINE poller", "pegel", "poll"),
    SensorIngest("pegel-ingest", "Sensor ingest (MQTT)", "pegel", "ingest"),
]


def ensure_dirs() -> None:
    for path in (STATE, LOG, RUN):
        path.mkdir(parents=True, exist_ok=True)


# --- setup ---------------------------------------------------------------------------------------

def load_secrets() -> dict:
    """Passwords and keys of the development stack: generated once, kept in var/secrets.env (0600)."""
    path = STATE / "secrets.env"
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key and not key.startswith("#"):
                values[key.strip()] = value.strip()
    wanted = ("ckan_db_password", "datastore_ro_password", "secret_key")
    if any(key not in values for key in wanted):
        for key in wanted:
            values.setdefault(key, secrets.token_urlsafe(24))
        path.write_text("# Generated by `make setup`; used by var/development.ini\n"
                        + "".join(f"{key}={values[key]}\n" for key in wanted))
        path.chmod(0o600)
    return values


def create_databases(pg: PostgreSQL, values: dict) -> None:
    """Roles and databases for development and tests; passwords are (re)set so they match the configs."""
    roles = {
        "ckan_default": values["ckan_db_password"],
        "datastore_default": values["datastore_ro_password"],
        "ckan_test": "ckan_test",
        "datastore_test": "datastore_test",
    }
    for role, password in roles.items():
        if not pg.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
            pg.psql(f"CREATE ROLE {role} WITH LOGIN PASSWORD '{password}'")
        elif not pg.can_log_in(role, password):
            pg.psql(f"ALTER ROLE {role} WITH PASSWORD '{password}'")
    databases = {"ckan_default": "ckan_default", "datastore_default": "ckan_default",
                 "ckan_test": "ckan_test", "datastore_test": "ckan_test"}
    for database, owner in databases.items():
        if not pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
            pg.psql(f"CREATE DATABASE {database} OWNER {owner} ENCODING 'UTF8' TEMPLATE template0")
            say(f"PostgreSQL: created database {database}")


def write_dev_config(values: dict) -> None:
    template = string.Template((PROJECT / "config/development.ini").read_text())
    rendered = template.substitute(
        project_dir=PROJECT, state_dir=STATE, ckan_port=PORTS["ckan"], pg_port=PORTS["postgresql"],
        solr_port=PORTS["solr"], redis_port=PORTS["redis"], mqtt_port=PORTS["mosquitto"], **values)
    if DEV_INI.exists() and DEV_INI.read_text() != rendered:
        say(f"{DEV_INI} differs from config/development.ini: kept as it is (delete it to regenerate)")
        return
    DEV_INI.write_text(rendered)
    DEV_INI.chmod(0o600)


def migrate(pg: PostgreSQL, ini: Path, datastore_db: str) -> None:
    """Core and plugin migrations (harvest, activity, ...), then the DataStore's read-only permissions."""
    say(f"CKAN: migrating the database of {ini.name}")
    ckan(ini, "db", "init")
    permissions = ckan(ini, "datastore", "set-permissions").stdout
    pg.psql(permissions, database=datastore_db)


def ensure_sysadmin() -> None:
    name = os.environ.get("SW_ADMIN_USER", "admin")
    listed = ckan(DEV_INI, "sysadmin", "list").stdout
    if re.search(rf"\bname={re.escape(name)}\b", listed):
        say(f"CKAN: sysadmin '{name}' exists")
        return
    exists = run([venv_bin("ckan"), "-c", str(DEV_INI), "user", "show", name], check=False).stdout
    if f"name={name}" not in exists:
        given = os.environ.get("SW_ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        email = os.environ.get("SW_ADMIN_EMAIL", f"{name}@localhost")
        ckan(DEV_INI, "user", "add", name, f"email={email}", f"password={password}")
        if not given:
            print(f"\n  Sysadmin created: user '{name}', password '{password}'\n"
                  "  (shown only this once; change it with `ckan -c var/development.ini user setpass`)\n")
    ckan(DEV_INI, "sysadmin", "add", name, input="y\n")
    say(f"CKAN: '{name}' is a sysadmin")


def setup() -> None:
    ensure_dirs()
    (STATE / "storage").mkdir(exist_ok=True)
    (STATE / "test" / "storage").mkdir(parents=True, exist_ok=True)
    python = venv_bin("python")
    ckan_schema = run([python, "-c", "import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), "
                                     "'config', 'solr', 'schema.xml'))"]).stdout.strip()
    pg, solr = SERVICES[0], SERVICES[1]
    solr.build()
    solr.configure(Path(ckan_schema))
    pg.initialise()
    start_services()
    values = load_secrets()
    create_databases(pg, values)
    write_dev_config(values)
    migrate(pg, DEV_INI, "datastore_default")
    migrate(pg, TEST_INI, "datastore_test")
    ensure_sysadmin()
    say(f"setup done. Start the portal with `make run`: http://127.0.0.1:{PORTS['ckan']}")


# --- commands ------------------------------------------------------------------------------------

def select(names: list[str]) -> list[Service]:
    """The processes named on the command line (all of them when none is named), in start order."""
    everything = SERVICES + CKAN_PROCESSES
    unknown = set(names) - {process.name for process in everything}
    if unknown:
        raise StackError(f"unknown service {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(process.name for process in everything)}")
    return [process for process in everything if not names or process.name in names]


def start_services() -> None:
    start(SERVICES)


def start(processes: list[Service]) -> None:
    ensure_dirs()
    if any(isinstance(process, CkanProcess) for process in processes) and not DEV_INI.exists():
        raise StackError(f"{DEV_INI} is missing: run `make setup` first")
    for process in processes:
        process.start()
    if CKAN_PROCESSES[0] in processes:
        say(f"CKAN answers at http://127.0.0.1:{PORTS['ckan']} (logs in {LOG})")


def stop(processes: list[Service]) -> None:
    for process in reversed(processes):
        process.stop()


def status(processes: list[Service]) -> int:
    down = 0
    for process in processes:
        state = process.status()
        down += state == "down"
        where = f"127.0.0.1:{process.port}" if process.port else ""
        print(f"{process.label:<26} {state:<40} {where}")
    return 1 if down else 0


def harvest_scheduler() -> None:
    """Loop of the harvest scheduler process (see HarvestScheduler)."""
    while True:
        result = run([venv_bin("ckan"), "-c", str(DEV_INI), "harvester", "run"], check=False)
        if result.returncode != 0:
            print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} harvester run failed:\n{tail(result.stderr)}", flush=True)
        time.sleep(HARVEST_INTERVAL)


def main(argv=None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `stack.py status | head` ends quietly
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup")
    for command in ("start", "stop", "status"):
        sub = commands.add_parser(command)
        sub.add_argument("names", nargs="*", metavar="NAME", help="only these (default: all)")
        sub.add_argument("--services", action="store_true", help="only PostgreSQL, Solr, Redis and Mosquitto")
    commands.add_parser("harvest-scheduler")
    args = parser.parse_args(argv)
    try:
        if args.command == "setup":
            setup()
        elif args.command in ("start", "stop", "status"):
            processes = SERVICES if args.services else select(args.names)
            return {"start": start, "stop": stop, "status": status}[args.command](processes) or 0
        elif args.command == "harvest-scheduler":
            harvest_scheduler()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
