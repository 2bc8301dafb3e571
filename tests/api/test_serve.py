"""``maillage serve``: prints the URL it serves, refuses an open web view off loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

from typer.testing import CliRunner

from api.cli import app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_the_url_and_answers(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILLAGE_", "NEO4J_"))}
    env.update(MAILLAGE_STORE="memory", MAILLAGE_DATA_DIR=str(tmp_path))
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path) as proc:
        try:
            line = proc.stdout.readline()
            assert line.strip() == f"maillage is serving http://127.0.0.1:{port}/"
            # The socket listens before the line is printed: the first request succeeds.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/me", timeout=30) as r:
                assert r.status == 200 and b'"open":true' in r.read()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_refuses_a_public_interface_without_tokens(monkeypatch):
    for name in ("MAILLAGE_TOKENS", "MAILLAGE_TOKENS_FILE"):
        monkeypatch.delenv(name, raising=False)
    from maillage.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "without access tokens" in result.output and "Traceback" not in result.output
