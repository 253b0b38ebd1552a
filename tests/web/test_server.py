"""The web app's server logic over HTTP, without a browser: upload limits, the queue (one run at a
time, models loaded once), the temporary folder, authentication and the host warning."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

pytestmark = pytest.mark.web


def png(h: int = 48, w: int = 64, seed: int | None = 0) -> bytes:
    """A random PNG of h x w (seed None: one flat grey, a few hundred bytes)."""
    if seed is None:
        a = np.full((h, w, 3), 128, np.uint8)
    else:
        a = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    PIL.Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def call(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def run_photo(url: str, data: bytes, **query: str) -> dict:
    status, up = call(url + "api/upload?name=p.png", data)
    assert status == 200, up
    q = "&".join(f"{k}={v}" for k, v in {"upload": up["upload"], **query}.items())
    status, job = call(url + f"api/run/photo?{q}", b"")
    assert status == 200, job
    status, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert status == 200 and st["status"] == "done", st
    return st


@pytest.fixture
def serve(tmp_path: Path, web: Any):
    """``serve(**create_app kwargs)`` -> a started server with its temp folder under tmp_path."""
    started = []

    def start(**kw: Any) -> Any:
        kw.setdefault("device", "cpu")
        kw.setdefault("preload", False)
        kw.setdefault("temp_root", str(tmp_path))
        srv = web.BackgroundServer(web.create_app(**kw)).start()
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()


def test_upload_limits_give_clear_errors_and_the_server_keeps_serving(serve):
    srv = serve(max_bytes=20_000, max_pixels=100 * 100)
    url = srv.url
    status, body = call(url + "api/upload?name=big.png", png(120, 120, 1) * 1)
    assert status == 413 and "big.png" in body["error"] and "upload limit" in body["error"]
    status, body = call(url + "api/upload?name=wide.png", png(20, 600, None))
    assert status == 400 and "over the limit of 10000" in body["error"], body
    assert "--max-pixels" in body["error"]
    status, body = call(url + "api/upload?name=a.txt", b"hello, not a photo")
    assert status == 400 and body["error"].startswith("a.txt: not an image"), body
    status, body = call(url + "api/upload?name=empty.png", b"")
    assert status == 400 and "empty" in body["error"]
    status, body = call(url + "api/upload?name=%2E%2E%2Fetc%2Fok.png", png(40, 50))
    assert status == 200 and body["name"] == "ok.png" and body["width"] == 50, body
    status, body = call(url + "api/run/photo?upload=nope", b"")
    assert status == 404 and "nope" in body["error"]
    assert call(url + "api/models")[0] == 200  # still serving


def test_bad_options_and_a_mask_of_the_wrong_size_are_refused(serve):
    url = serve().url
    _, up = call(url + "api/upload?name=p.png", png())
    status, body = call(url + f"api/run/photo?upload={up['upload']}&tone=purple", b"")
    assert status == 400 and "tone='purple'" in body["error"]
    status, body = call(url + f"api/run/photo?upload={up['upload']}&threshold=2", b"")
    assert status == 400 and "between 0 and 1" in body["error"]
    status, body = call(url + f"api/run/photo?upload={up['upload']}&face_strength=1.5", b"")
    assert status == 400 and "face_strength='1.5'" in body["error"]
    status, body = call(url + f"api/run/photo?upload={up['upload']}", png(10, 10))
    assert status == 400 and "does not match" in body["error"]
    status, body = call(url + "api/run/generate?model=gen-mnist&n=lots", b"")
    assert status == 400 and "n='lots'" in body["error"]
    _, job = call(url + "api/run/generate?model=gen-mnist&n=1000", b"")
    _, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "error" and "1 to 64" in st["error"]
    _, job = call(url + "api/run/generate?model=gen-mnist&n=4&label=3", b"")
    _, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "done" and st["info"]["label"] == 3, st
    _, job = call(url + "api/run/generate?model=gen-mnist&n=4&label=12", b"")
    _, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "error" and "0..9" in st["error"]
    _, job = call(url + "api/run/generate?model=gen-cifar10&n=4&label=3", b"")
    _, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "error" and "unconditional" in st["error"]
    _, job = call(url + f"api/run/sr?upload={up['upload']}&model=colorize", b"")
    _, st = call(url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "error" and "not one of this tab's" in st["error"]
    assert call(url + "api/run/nothing", b"")[0] == 404


def test_photo_run_files_stay_in_the_temp_folder_which_is_removed(serve, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    srv = serve(keep=2)
    root = srv.app.state.queue.root
    assert root.parent == tmp_path
    st = run_photo(srv.url, png())
    assert set(st["outputs"]) >= {"result"} and st["info"]["size"] == [48, 64]
    status, data = call(srv.url.rstrip("/") + st["outputs"]["result"])
    assert status == 200 and PIL.Image.open(io.BytesIO(data)).size == (64, 48)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(root in p.parents for p in written), written
    for i in range(3):  # keep=2: older uploads and jobs lose their folders
        run_photo(srv.url, png(seed=i + 1))
    assert len([p for p in root.iterdir() if p.name.startswith("j")]) == 2
    assert call(srv.url.rstrip("/") + st["outputs"]["result"])[0] == 404
    srv.stop()
    assert not root.exists()


def test_models_load_once_and_a_painted_mask_replaces_detection(serve, sample_photo):
    srv = serve()
    models = srv.app.state.models
    # the sample's real scratches, small (random noise is not damage to the shipped detector)
    buf = io.BytesIO()
    PIL.Image.open(sample_photo).resize((192, 148), PIL.Image.LANCZOS).save(buf, "PNG")
    low, high = (
        run_photo(srv.url, buf.getvalue(), threshold=t)["info"]["damaged"] for t in ("0.05", "0.95")
    )
    assert low > high > 0  # a lower damage threshold marks more of the photo
    assert models.loads == 3  # damage, inpaint, enhance
    info = run_photo(srv.url, png(), faces="1")["info"]  # ran, or skipped with a warning
    assert "faces" in " ".join(info["stages"] + info["warnings"]), info
    loads = models.loads  # + the face model once it ships
    _, up = call(srv.url + "api/upload?name=p.png", png(seed=5))
    mask = np.zeros((48, 64), np.uint8)
    mask[10:20, 10:40] = 255
    buf = io.BytesIO()
    PIL.Image.fromarray(mask).save(buf, "PNG")
    _, job = call(srv.url + f"api/run/photo?upload={up['upload']}", buf.getvalue())
    _, st = call(srv.url + f"api/jobs/{job['job']}?wait=30")
    assert st["status"] == "done", st
    assert models.loads == loads  # nothing loaded again
    assert not any(s.startswith("detect") for s in st["info"]["stages"])
    _, used = call(srv.url.rstrip("/") + st["outputs"]["mask"])
    got = np.asarray(PIL.Image.open(io.BytesIO(used))) > 127
    assert (got == (mask > 0)).all()


def test_one_run_at_a_time_with_queue_positions(tmp_path, web):
    from restore.web.jobs import JobQueue, QueueFullError

    q = JobQueue(keep=8, max_queue=3, root=str(tmp_path))
    spans, gate = [], threading.Event()

    def work(job):
        t0 = time.monotonic()
        gate.wait(10)
        time.sleep(0.05)
        spans.append((t0, time.monotonic()))
        return {}

    jobs = [q.submit("t", work) for _ in range(3)]
    time.sleep(0.1)
    assert [q.position(j) for j in jobs] == [0, 1, 2]
    assert jobs[0].status == "running" and jobs[2].status == "queued"
    with pytest.raises(QueueFullError, match="waiting"):
        q.submit("t", work)
    gate.set()
    for j in jobs:
        assert j.done.wait(10) and j.status == "done"
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # never two at once
    q.close()
    assert not q.root.exists()


def test_a_failing_job_reports_its_error_and_the_queue_goes_on(tmp_path, web):
    from restore.errors import RestoreError
    from restore.web.jobs import JobQueue

    q = JobQueue(root=str(tmp_path))

    def user_error(job):
        raise RestoreError("bad input, clearly said")

    def bug(job):
        raise ZeroDivisionError("oops")

    a, b, c = q.submit("t", user_error), q.submit("t", bug), q.submit("t", lambda j: {"ok": 1})
    for j in (a, b, c):
        j.done.wait(10)
    assert (a.status, a.error) == ("error", "bad input, clearly said")
    assert b.status == "error" and b.error.startswith("internal error (ZeroDivisionError")
    assert c.status == "done" and c.info["ok"] == 1
    q.close()


def test_auth_is_required_when_given(serve):
    srv = serve(auth=("ann", "s3cret"))
    status, body = call(srv.url)
    assert status == 401 and "--auth" in body["error"]
    bad = base64.b64encode(b"ann:wrong").decode()
    assert call(srv.url, headers={"Authorization": f"Basic {bad}"})[0] == 401
    good = base64.b64encode(b"ann:s3cret").decode()
    status, page = call(srv.url, headers={"Authorization": f"Basic {good}"})
    assert status == 200 and b"<title>restore" in page


def test_page_is_self_contained_and_forbids_other_hosts(serve):
    srv = serve()
    with urllib.request.urlopen(srv.url, timeout=30) as r:
        csp = r.headers["Content-Security-Policy"]
        html = r.read().decode()
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http://" not in html and "https://" not in html
    for name in ("app.js", "mask.js", "app.css"):
        with urllib.request.urlopen(srv.url + f"static/{name}", timeout=30) as r:
            text = r.read().decode()
        assert "http://" not in text and "https://" not in text, name
    for docs in ("docs", "redoc", "openapi.json"):  # FastAPI's docs pages load from a CDN: off
        assert call(srv.url + docs)[0] == 404


def test_host_warning_and_auth_parsing(web):
    from restore.errors import ConfigError

    assert web.bind_warnings("127.0.0.1", None) == []
    assert web.bind_warnings("localhost", None) == []
    (w,) = web.bind_warnings("0.0.0.0", None)
    assert "0.0.0.0" in w and "--auth" in w
    (w,) = web.bind_warnings("0.0.0.0", ("a", "b"))
    assert "sign in" in w
    assert web.parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    assert web.parse_auth(None) is None
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ConfigError, match="user:password"):
            web.parse_auth(bad)


def test_a_running_job_reports_its_stage_and_progress(serve):
    srv = serve()
    q = srv.app.state.queue
    gate = threading.Event()

    def work(job):
        job.set_stage("detect", 0.25)
        gate.wait(10)
        return {}

    job = q.submit("photo", work)
    deadline = time.monotonic() + 10
    while job.stage != "detect" and time.monotonic() < deadline:
        time.sleep(0.01)
    status, st = call(srv.url + f"api/jobs/{job.id}")
    gate.set()
    assert status == 200 and st["status"] == "running", st
    assert st["stage"] == "detect" and st["progress"] == 0.25 and st["elapsed"] > 0
    status, st = call(srv.url + f"api/jobs/{job.id}?wait=10")
    assert st["status"] == "done" and st["progress"] == 1.0


def test_a_taken_port_is_a_clear_error(web):
    from restore.errors import ConfigError
    from restore.web.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match="another --port"):
            bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def test_the_paper_texture_option_reaches_the_pipeline(serve):
    # a 6-px lattice of cells over a smooth picture: taken out unless the box is unticked
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float64)
    cells = 14 * (np.cos(2 * np.pi * xx / 6) + np.cos(2 * np.pi * yy / 6))
    a = np.clip(120 + 50 * np.sin(xx / 40) + cells, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    PIL.Image.fromarray(a).save(buf, "PNG")
    srv = serve()
    off = {"detect": "0", "inpaint": "0", "enhance": "0"}
    on = run_photo(srv.url, buf.getvalue(), **off)["info"]["stages"]
    assert [s.split()[0] for s in on][:1] == ["descreen"]
    kept = run_photo(srv.url, buf.getvalue(), descreen="0", **off)["info"]["stages"]
    assert not any(s.startswith("descreen") for s in kept)
    from restore.errors import ConfigError
    from restore.web.tools import photo_options

    with pytest.raises(ConfigError, match="descreen='yes'"):
        photo_options({"descreen": "yes"})


def test_face_strength_option_is_parsed():
    from restore.web.tools import photo_options

    assert photo_options({}).face_strength == 1.0
    assert photo_options({"faces": "1", "face_strength": "0.3"}).face_strength == 0.3
    assert photo_options({"face_strength": ""}).face_strength == 1.0


def test_tone_option_is_parsed():
    """The page's tone choices are the CLI's: keep (default), neutral, mono."""
    from restore.errors import ConfigError
    from restore.photo import TONE_MODES
    from restore.web.tools import photo_options

    assert photo_options({}).tone == "keep"
    assert [photo_options({"tone": t}).tone for t in TONE_MODES] == list(TONE_MODES)
    with pytest.raises(ConfigError, match="use keep, neutral or mono"):
        photo_options({"tone": "sepia"})
    page = (Path(photo_options.__code__.co_filename).parent / "static" / "index.html").read_text()
    select = page[page.index('<select name="tone">') :]
    select = select[: select.index("</select>")]
    assert re.findall(r'<option value="(\w+)"', select) == list(TONE_MODES)
