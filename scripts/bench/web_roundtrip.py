"""Restore a 1024x768 photo through the web app vs the CLI, side by side on this machine.

    python scripts/bench/web_roundtrip.py [--runs 5] [--no-browser]

The photo is assets/old_photo.jpg resized to 1024x768 (as scripts/bench/photo.py). Each round
runs, one after the other (never at once):

- ``restore photo IN -o OUT``: what a CLI user waits for, a new process per photo (start-up,
  imports, model loading, the pipeline, writing the PNG);
- the web app's HTTP API against a running ``restore serve`` (started once, models loaded once):
  upload the bytes, queue the run, wait for it, download the result PNG;
- the page in headless Chromium (Playwright + Debian's chromium; skipped with a note when absent):
  choose the file, press Restore, wait for the result, download it.

Rounds interleave the three so the machine's load drifts over all of them alike. Prints wall
medians, each path's ratio to the CLI (issue 19's bar: web <= 1.5x the CLI), and the pipeline's
own time inside the server (the job's elapsed time) to show what the web layer adds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import cv2  # noqa: E402
from common import cpu_name  # noqa: E402

from restore.data.io import read_image, write_image  # noqa: E402

RESTORE = [sys.executable, "-m", "restore"]


def make_photo(folder: Path) -> Path:
    px = cv2.resize(
        read_image(REPO / "assets" / "old_photo.jpg").pixels, (1024, 768), cv2.INTER_CUBIC
    )
    return write_image(folder / "photo_1024x768.png", px)


def cli_once(photo: Path, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([*RESTORE, "photo", str(photo), "-o", str(out)], check=True, capture_output=True)
    return time.perf_counter() - t0


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [*RESTORE, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"restore serve did not start: {line!r}")
    return proc, line.split()[3]


def post(url: str, data: bytes) -> dict:
    req = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)


def http_once(url: str, data: bytes) -> tuple[float, float]:
    """(round-trip seconds, the job's own seconds in the server)."""
    t0 = time.perf_counter()
    up = post(url + "api/upload?name=photo.png", data)
    job = post(url + f"api/run/photo?upload={up['upload']}", b"")["job"]
    while True:
        with urllib.request.urlopen(url + f"api/jobs/{job}?wait=30", timeout=300) as r:
            st = json.load(r)
        if st["status"] in ("done", "error"):
            break
    if st["status"] != "done":
        raise SystemExit(f"the web job failed: {st['error']}")
    with urllib.request.urlopen(url.rstrip("/") + st["outputs"]["result"], timeout=300) as r:
        r.read()
    return time.perf_counter() - t0, st["elapsed"]


class Page:
    """The page in headless Chromium, or None-like when Playwright or chromium is missing."""

    def __init__(self, url: str, folder: Path) -> None:
        from playwright.sync_api import sync_playwright

        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if exe is None:
            raise RuntimeError("no chromium (apt-get install -y chromium)")
        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        self.page = self.browser.new_context(accept_downloads=True).new_page()
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='1']")
        self.folder = folder

    def once(self, photo: Path) -> float:
        from playwright.sync_api import expect

        p = self.page
        t0 = time.perf_counter()
        p.locator("#photo [data-role='file']").set_input_files(str(photo))
        run = p.locator("#photo [data-role='run']")
        expect(run).to_be_enabled(timeout=300_000)
        old = p.locator("#photo [data-role='dl-result']").get_attribute("href") or ""
        run.click()
        link = p.locator("#photo [data-role='dl-result']")
        expect(link).not_to_have_attribute("href", old, timeout=300_000)
        expect(p.locator("#photo [data-role='downloads']")).to_be_visible(timeout=300_000)
        with p.expect_download() as dl:
            link.click()
        dl.value.save_as(self.folder / "page.png")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.browser.close()
        self.pw.stop()


def _training() -> str:
    """The training / judging processes running now (the benchmark should run without them)."""
    return subprocess.run(
        ["pgrep", "-fa", "restore train|restore relay|judge_queue"], capture_output=True, text=True
    ).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true", help="leave out the page in Chromium")
    args = ap.parse_args()
    busy = _training()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = make_photo(folder)
        data = photo.read_bytes()
        proc, url = start_server()
        page = None
        try:
            http_once(url, data)  # warm-up: waits for the models the server preloads
            if not args.no_browser:
                try:
                    page = Page(url, folder)
                    page.once(photo)  # warm-up of the browser side
                except Exception as e:  # noqa: BLE001 (say why and go on without it)
                    print(f"page in Chromium: left out ({e})")
                    page = None
            cli, web, job, pg = [], [], [], []
            for _ in range(args.runs):
                cli.append(cli_once(photo, folder / "cli.png"))
                rt, el = http_once(url, data)
                web.append(rt)
                job.append(el)
                if page is not None:
                    pg.append(page.once(photo))
        finally:
            if page is not None:
                page.close()
            proc.terminate()
            proc.wait(timeout=60)
    c = statistics.median(cli)
    rows = [("restore photo (CLI, one process per photo)", c)]
    rows.append(("web app, HTTP API (upload, run, download)", statistics.median(web)))
    if pg:
        rows.append(
            ("web app, the page in Chromium (choose, Restore, download)", statistics.median(pg))
        )
    load = os.getloadavg()[0]
    busy = "; ".join(x for x in (busy, _training()) if x)
    print(f"\n1024x768 photo, {cpu_name()}, {os.cpu_count()} cores, median of {args.runs}")
    print(
        f"load average {load0:.1f} at the start, {load:.1f} at the end; trainings seen at the "
        f"start or end: {busy.replace(chr(10), '; ')[:300] or 'none'}\n"
    )
    print(f"| {'path':60s} | median s | vs CLI |")
    print(f"|{'-' * 62}|---------:|-------:|")
    for name, s in rows:
        print(f"| {name:60s} | {s:8.2f} | {s / c:5.2f}x |")
    print(
        f"| {'  of which the pipeline inside the server (job time)':60s} | {statistics.median(job):8.2f} |        |"
    )
    print(f"\nall runs (s): CLI {[round(x, 2) for x in cli]}, HTTP {[round(x, 2) for x in web]}")
    if pg:
        print(f"page {[round(x, 2) for x in pg]}")
    ok = all(s <= 1.5 * c for _, s in rows[1:])
    print(f"issue 19's bar (web <= 1.5x the CLI): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
