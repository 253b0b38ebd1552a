"""``restore serve`` from the command line: the hint without the extra (default run), and the real
command: prints the URL, warns about --host, asks for --auth, stops cleanly on Ctrl+C."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from restore.cli import main


def test_serve_without_the_web_extra_says_what_to_install(monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "restore.web" or m.startswith("restore.web.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "restore[web]"' in err


@pytest.mark.web
def test_serve_prints_the_url_warns_for_host_and_stops_cleanly(web, tmp_path: Path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "restore", "serve", "--port", "0", "--host", "0.0.0.0"]
    proc = subprocess.Popen(
        [*cmd, "--auth", "ann:pw"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # blocks until the URL is printed
        assert line.startswith("restore web app: http://127.0.0.1:"), line
        url = line.split()[3]
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=10)
                raise AssertionError("served without asking for --auth")
            except urllib.error.HTTPError as e:
                assert e.code == 401
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        req = urllib.request.Request(url)
        req.add_header("Authorization", "Basic " + base64.b64encode(b"ann:pw").decode())
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200
        assert list(tmp_path.glob("restore-web-*")), "the temporary folder is under $TMPDIR"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "WARNING: serving on 0.0.0.0" in err
    assert not list(tmp_path.glob("restore-web-*")), "the temporary folder was left behind"
