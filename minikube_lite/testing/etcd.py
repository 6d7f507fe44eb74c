"""A throwaway etcd server for tests and demos: temp data dir, free loopback ports.

The tests of the etcd backend run against a real etcd (Debian's ``etcd-server`` package,
installed by ``scripts/install_etcd``), never a fake: the point is etcd's own semantics
(revisions, transactions, watch, compaction).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's etcd-server puts the binary, for a PATH without /usr/bin.
KNOWN_LOCATIONS = ("/usr/bin/etcd", "/usr/local/bin/etcd")
STARTUP_TIMEOUT = 20.0


class EtcdUnavailable(RuntimeError):
    """No etcd binary here, or it did not come up."""


def etcd_binary() -> str | None:
    found = os.environ.get("MINIKUBE_LITE_ETCD") or shutil.which("etcd")
    if found:
        return found
    return next((p for p in KNOWN_LOCATIONS if Path(p).is_file()), None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class EtcdServer:
    """One etcd member on loopback; ``stop``/``start`` again keeps its data and ports."""

    binary: str
    directory: Path
    client_port: int
    peer_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def url(self, prefix: str = "") -> str:
        """A ``--storage`` value for this server (``prefix`` keeps tests apart)."""
        return f"etcd://{self.endpoint}" + (f"/{prefix.strip('/')}" if prefix else "")

    def start(self) -> None:
        client_url, peer_url = f"http://127.0.0.1:{self.client_port}", f"http://127.0.0.1:{self.peer_port}"
        log_path = self.directory / "etcd.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--name", "test", "--data-dir", str(self.data_dir),
                 "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                 "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                 "--initial-cluster", f"test={peer_url}", "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(self.client_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log_path.read_text(errors="replace")[-2000:]
                raise EtcdUnavailable(f"etcd did not start: {tail}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def run_etcd(binary: str | None = None) -> Iterator[EtcdServer]:
    """Start etcd on 127.0.0.1 (client and peer ports picked free), stop it and drop its data at the end."""
    binary = binary or etcd_binary()
    if binary is None:
        raise EtcdUnavailable("etcd is not installed (scripts/install_etcd installs Debian's etcd-server)")
    with tempfile.TemporaryDirectory(prefix="minikube-lite-etcd-") as tmp:
        server = EtcdServer(binary, Path(tmp), _free_port(), _free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()
