"""Processes the ingest tests control themselves: a Mosquitto of their own (to restart it) and a TCP
proxy in front of PostgreSQL (to cut the worker off the database without touching the shared server)."""
from __future__ import annotations

import getpass
import socket
import string
import subprocess
import threading
import time
from pathlib import Path

CONFIG_TEMPLATE = Path(__file__).resolve().parents[5] / "config" / "mosquitto.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Broker:
    """A Mosquitto started from the project's config/mosquitto.conf (persistence on), on a free port,
    with its data in ``directory``; ``stop()`` and ``start()`` again keep the persisted sessions."""

    def __init__(self, directory: Path, extra: str = ""):
        self.directory, self.port, self.process = directory, free_port(), None
        directory.mkdir(parents=True, exist_ok=True)
        config = string.Template(CONFIG_TEMPLATE.read_text()).substitute(
            port=self.port, data_dir=directory, log_file=directory / "mosquitto.log",
            pid_file=directory / "mosquitto.pid", user=getpass.getuser())
        self.config = directory / "mosquitto.conf"
        self.config.write_text(config + extra)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        """SIGTERM, as an init system stops it: Mosquitto saves its persistence file on the way out."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class TlsBroker(Broker):
    """A Broker with a second listener that speaks TLS (a certificate for 127.0.0.1 from a CA of its own,
    ``ca_file``) and checks passwords (``users``: name -> password)."""

    def __init__(self, directory: Path, users: dict[str, str]):
        directory.mkdir(parents=True, exist_ok=True)
        self.tls_port = free_port()
        self.ca_file, cert, key = _certificates(directory)
        passwords = directory / "passwd"
        passwords.write_text("")
        for user, password in users.items():
            subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
        super().__init__(directory, extra=f"\npassword_file {passwords}\nlistener {self.tls_port} 127.0.0.1\n"
                                          f"cafile {self.ca_file}\ncertfile {cert}\nkeyfile {key}\n")

    def tls_url(self, user: str, password: str) -> str:
        return f"mqtts://{user}:{password}@127.0.0.1:{self.tls_port}"

    def start(self) -> None:
        super().start()
        wait_for_port(self.tls_port)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    ca_key, ca, key, csr, cert = (directory / name for name in ("ca.key", "ca.pem", "server.key", "server.csr",
                                                                 "server.pem"))
    run = lambda *args: subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Test CA", "-keyout", ca_key,
        "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr)
    extensions = directory / "san.cnf"
    extensions.write_text("subjectAltName = IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "1",
        "-extfile", extensions, "-out", cert)
    return ca, cert, key


class TcpProxy:
    """Forwards a local port to ``target``; ``cut()`` drops every connection and refuses new ones (the
    database "goes away" for whoever connects through it), ``restore()`` lets them in again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._open = threading.Event()
        self._open.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass
