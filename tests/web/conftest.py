"""Fixtures of the web app's tests: a live server on 127.0.0.1 and a real headless Chromium.

Every test here but the base-install check in ``test_cli_serve.py`` is marked ``web`` and left out of
the default run (``pyproject.toml``); ``.ci/run`` installs the ``[web]`` extra and Debian's
``chromium`` and runs them with ``python -m pytest -q -m web tests/web``. A missing extra or
browser FAILS the test with what to install: it never skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "assets" / "old_photo.jpg"  # the README's sample damaged photo
#: Where a browser test may leave its screenshot for the README (docs/img/web_app.png).
SCREENSHOT_DIR_ENV = "RESTORE_SCREENSHOT_DIR"


def need_web() -> Any:
    """restore.web, or a failure saying how to install the extra."""
    try:
        import restore.web
    except ModuleNotFoundError as e:
        pytest.fail(
            f'the web tests need the [web] extra ({e.name} missing): pip install -e ".[web]"'
        )
    return restore.web


def chromium_path() -> str:
    """Debian's chromium, or a failure saying how to install it (never a skip)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium")


@pytest.fixture(scope="session")
def web() -> Any:
    """The restore.web package (the test fails with the install line when the extra is missing)."""
    return need_web()


@pytest.fixture(scope="module")
def live_server() -> Iterator[Any]:
    """The real app (shipped models, CPU) served from a thread on a free local port."""
    web = need_web()
    with web.BackgroundServer(web.create_app(device="cpu", keep=8)) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (no browser download: Debian's binary)."""
    need_web()
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        pytest.fail('the browser tests need playwright: pip install -e ".[web,test]"')
    exe = chromium_path()
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(
                executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
        except Exception as e:  # a browser that does not start is a failure, with the reason
            pytest.fail(f"cannot start {exe} with Playwright: {e}")
        yield b
        b.close()


@pytest.fixture
def expect(browser: Any) -> Any:
    """Playwright's ``expect`` (its waits run in the page without eval, which the app's CSP forbids)."""
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh page; every request it makes is recorded, and any to another host is aborted
    and reported (``page.external``) so a test can assert the app works fully offline."""
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.requests, pg.external = [], []
    pg.on("request", lambda r: pg.requests.append(r.url))

    def gate(route: Any) -> None:
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            pg.external.append(url)
            route.abort()

    ctx.route("**/*", gate)
    yield pg
    ctx.close()


@pytest.fixture
def sample_photo() -> Path:
    """The README's sample damaged photo."""
    return SAMPLE


@pytest.fixture
def screenshot_file(tmp_path: Path) -> Path:
    """``$RESTORE_SCREENSHOT_DIR/web_app.png`` if set (to refresh the README's), else in tmp."""
    folder = os.environ.get(SCREENSHOT_DIR_ENV)
    return (Path(folder) if folder else tmp_path) / "web_app.png"
