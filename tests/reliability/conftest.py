"""A Neo4j server of the reliability tests' own, which they may kill.

The ``fault_server`` fixture runs ``scripts/neo4j-local`` with its own home (``.neo4j-fault``)
and port (7690), so that killing it never disturbs the test server other tests share. It is
started on first need and stopped at the end of the session. Override the home and port with
``MAILLAGE_FAULT_NEO4J_HOME`` / ``MAILLAGE_FAULT_NEO4J_PORT``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from maillage.settings import REPO_ROOT
from tests.reliability.figures import record

FAULT_HOME = Path(os.environ.get("MAILLAGE_FAULT_NEO4J_HOME", REPO_ROOT / ".neo4j-fault"))
FAULT_PORT = int(os.environ.get("MAILLAGE_FAULT_NEO4J_PORT", "7690"))


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class FaultServer:
    """A throwaway Neo4j server that tests start, stop and kill by its process id."""

    def __init__(self, home: Path, port: int):
        self.home = home
        self.port = port
        self.uri = f"bolt://127.0.0.1:{port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        self.env.update(MAILLAGE_NEO4J_HOME=str(home), MAILLAGE_NEO4J_PORT=str(port),
                        MAILLAGE_NEO4J_HEAP="768m", MAILLAGE_NEO4J_PAGECACHE=str(64 * 2**20))
        self.starts = 0
        self.kills = 0

    # ---- process control -------------------------------------------------------------------
    def _script(self, action: str) -> str:
        done = subprocess.run([str(REPO_ROOT / "scripts" / "neo4j-local"), action], env=self.env,
                              capture_output=True, text=True, timeout=400)
        if done.returncode not in (0, 3):
            pytest.fail(f"scripts/neo4j-local {action} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done.stdout

    def pid(self) -> int | None:
        """The server's process id (from its pid file) while it runs, else ``None``."""
        try:
            pid = int((self.home / "neo4j.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _process_alive(pid) else None

    def port_open(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> None:
        """Start the server and wait until it answers queries."""
        self._script("start")
        self.starts += 1

    def ensure_up(self) -> None:
        if self.pid() is None:
            self.start()

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM, as an operator would)."""
        self._script("stop")

    def kill(self) -> None:
        """Kill the server with SIGKILL and wait until its process is gone and its port closed."""
        pid = self.pid()
        assert pid is not None, "the fault server is not running"
        os.kill(pid, signal.SIGKILL)
        self.kills += 1
        record("faults_injected", 1)
        deadline = time.monotonic() + 30
        while _process_alive(pid) or self.port_open():
            if time.monotonic() > deadline:
                raise AssertionError(f"Neo4j (pid {pid}) still alive 30 s after SIGKILL")
            time.sleep(0.05)

    def ensure_down(self) -> None:
        if self.pid() is not None:
            self.kill()

    # ---- clients ---------------------------------------------------------------------------
    @property
    def password(self) -> str:
        return (self.home / "password").read_text().strip()

    def store(self, **options):
        """Return a new :class:`graph.neo4j_store.Neo4jStore` on this server."""
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore(self.uri, user="neo4j", password=self.password, **options)


@pytest.fixture(scope="session")
def fault_server():
    """The killable Neo4j server (started lazily by the tests that need it running)."""
    server = FaultServer(FAULT_HOME, FAULT_PORT)
    if server.pid() is None and server.port_open():
        pytest.fail(f"Port {FAULT_PORT} is taken by another program; set MAILLAGE_FAULT_NEO4J_PORT.", pytrace=False)
    try:
        yield server
    finally:
        if server.pid() is not None:
            server.stop()
