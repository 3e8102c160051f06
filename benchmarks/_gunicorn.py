"""CKAN under gunicorn as in the production image, and the CPU time of process trees (for benchmarks that
load CKAN over HTTP on this machine)."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from _common import REPOSITORY_ROOT, CannotRun


GUNICORN_CONF = REPOSITORY_ROOT / "docker" / "ckan" / "gunicorn.conf.py"
WSGI_DIR = REPOSITORY_ROOT / "docker" / "ckan"   # wsgi.py: the production image's entry point


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stat(pid):
    """The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1]); None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree_cpu_seconds(root):
    """CPU time (user + system) of a process and all its descendants, including the descendants that have
    ended (their time is added to their parent's cutime/cstime when it reaps them): a difference of two
    readings is the CPU the tree used in between, even when workers or backends come and go."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields:
                parents.setdefault(int(fields[1]), []).append((int(entry.name), fields))
    root_fields = _stat(root)
    if root_fields is None:
        return 0.0
    ticks, pending = 0, [(root, root_fields)]
    while pending:
        pid, fields = pending.pop()
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        pending.extend(parents.get(pid, []))
    return ticks / os.sysconf("SC_CLK_TCK")


def solr_root():
    """Solr's pid from the local stack's pid file (None if unknown). Solr is shared with everyone on the
    machine (other sites' tests, commits), so its CPU includes other users' load."""
    state_dir = Path(os.environ.get("SW_STATE_DIR", REPOSITORY_ROOT / "var"))
    try:
        return int((state_dir / "run" / "solr.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def database_backends(database_name):
    """The PostgreSQL backend processes serving `database_name` (their process title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
                if f" {database_name} " in title:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


class GunicornServer:
    """CKAN under gunicorn, configured like the production image (docker/ckan/gunicorn.conf.py and
    wsgi.py), listening on a free loopback port. Only the worker numbers, the bind address, the working
    directory, worker recycling and the log files differ (a settings file that loads the production one)."""

    def __init__(self, config_path, overrides, workers, threads, max_requests, log_dir):
        self.workers, self.threads, self.max_requests = workers, threads, max_requests
        self.log_dir = Path(log_dir)
        self.port = free_port()
        self.ini = self.log_dir / "server.ini"
        source = Path(config_path).read_text()
        logging_sections = "[loggers]" + source.split("[loggers]", 1)[1] if "[loggers]" in source else ""
        settings = "\n".join(overrides)
        self.ini.write_text(f"[app:main]\nuse = config:{config_path}\n{settings}\n\n{logging_sections}")
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=240):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        if not gunicorn.exists():
            raise CannotRun(f"{gunicorn} is missing: .venv/bin/pip install -c constraints.txt gunicorn")
        # The production settings file, then what differs here (its chdir, /srv/app, does not exist
        # outside the image, and gunicorn checks it before command-line options could override it).
        settings = self.log_dir / "gunicorn.conf.py"
        settings.write_text(
            "import runpy\n"
            f"globals().update((key, value) for key, value in runpy.run_path({str(GUNICORN_CONF)!r}).items()\n"
            "                  if not key.startswith('__') and key != 'runpy')\n"
            f"bind = ['127.0.0.1:{self.port}']\nchdir = {str(REPOSITORY_ROOT)!r}\n"
            f"pythonpath = {str(WSGI_DIR)!r}\nworkers = {self.workers}\nthreads = {self.threads}\n"
            f"max_requests = {self.max_requests}\n"
            f"accesslog = {str(self.log_dir / 'access.log')!r}\nerrorlog = {str(self.log_dir / 'server.log')!r}\n")
        command = [str(gunicorn), "--config", str(settings)]
        environment = dict(os.environ, CKAN_INI=str(self.ini))
        self.process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                                        stderr=open(self.log_dir / "server.stderr", "wb"))
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout):
        """Answering, and every worker has loaded CKAN: all workers used CPU to start and now idle."""
        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CannotRun(f"gunicorn stopped (exit status {self.process.returncode}); see "
                                f"{self.log_dir / 'server.log'}")
            workers = self.worker_pids()
            used = {pid: tree_cpu_seconds(pid) for pid in workers}
            if (len(workers) == self.workers and previous is not None and self._answers()
                    and all(seconds > 1.0 for seconds in used.values())
                    and sum(used.values()) - sum(previous.get(pid, 0) for pid in used) < 0.1):
                return
            previous = used
            time.sleep(1)
        raise CannotRun(f"gunicorn did not become ready in {timeout} s; see {self.log_dir / 'server.log'}")

    def _answers(self):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/api/3/action/status_show")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def worker_pids(self):
        if not self.process:
            return []
        return [int(entry.name) for entry in Path("/proc").iterdir()
                if entry.name.isdigit() and (_stat(entry.name) or [None, None])[1] == str(self.process.pid)]

    def cpu_seconds(self):
        return tree_cpu_seconds(self.process.pid)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown of master and workers
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def machine_busy_seconds():
    """CPU seconds all CPUs of the machine spent busy (not idle, not waiting for I/O) since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
