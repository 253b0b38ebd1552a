"""Running the app: ``restore serve`` (blocking) and :class:`BackgroundServer` (tests, benchmarks).

The server binds 127.0.0.1 unless told otherwise; another host gets a warning (and a stronger one
without ``--auth``), because anyone who reaches the port can run models and upload files.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from restore.errors import ConfigError
from restore.web.app import create_app
from restore.web.uploads import DEFAULT_MAX_MB

log = logging.getLogger(__name__)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORT = 7860


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """``user:password`` -> (user, password); ``None`` stays ``None``.

    Raises:
        ConfigError: no colon, or an empty user or password.
    """
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth must be user:password (both non-empty)")
    return user, password


def bind_warnings(host: str, auth: tuple[str, str] | None) -> list[str]:
    """What to tell the user about binding ``host`` (nothing for the local machine)."""
    if host in LOCAL_HOSTS:
        return []
    msg = (
        f"serving on {host}: other machines that can reach this one can use the app "
        "(upload photos, run models)"
    )
    if auth is None:
        msg += "; anyone can, as no --auth user:password was given"
    else:
        msg += "; they must sign in (HTTP basic: use it behind HTTPS on an untrusted network)"
    return [msg]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({e.strerror or e}); is another restore serve "
            "running? Choose another --port (0: any free one)"
        ) from e
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The URL to open on this machine (all-interfaces binds answer on the loopback address)."""
    host, port = sock.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    auth: str | None = None,
    device: str | None = None,
    max_mb: float = DEFAULT_MAX_MB,
    max_pixels: int | None = None,
    echo: Callable[[str], Any] = log.info,
) -> int:
    """Run the web app until interrupted; ``echo`` gets the URL and warnings (the CLI prints them).

    Returns:
        0 after a clean shutdown (the temporary folder is removed).
    """
    credentials = parse_auth(auth)
    if max_mb <= 0:
        raise ConfigError(f"--max-mb must be > 0, got {max_mb}")
    app = create_app(
        device=device,
        max_bytes=int(max_mb * 2**20),
        max_pixels=max_pixels,
        auth=credentials,
    )
    sock = bind(host, port)
    for w in bind_warnings(host, credentials):
        echo(f"WARNING: {w}")
    where = "" if host in LOCAL_HOSTS else f" (listening on {host}, port {sock.getsockname()[1]})"
    echo(f"restore web app: {url_of(sock)}{where}  (Ctrl+C to stop)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its clean shutdown
        pass
    echo("restore web app: stopped (temporary files removed)")
    return 0


class BackgroundServer:
    """The app served from a thread on 127.0.0.1 (a free port); ``with`` stops it.

    Example:
        >>> with BackgroundServer(create_app()) as srv:        # doctest: +SKIP
        ...     print(srv.url)
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self, timeout: float = 60.0) -> BackgroundServer:
        self.thread.start()
        ev = threading.Event()
        while not self.server.started and self.thread.is_alive():
            ev.wait(0.02)
            timeout -= 0.02
            if timeout <= 0:
                raise TimeoutError("the web app did not start")
        if not self.server.started:
            raise RuntimeError("the web app failed to start (see the log)")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "DEFAULT_PORT",
    "LOCAL_HOSTS",
    "BackgroundServer",
    "bind",
    "bind_warnings",
    "parse_auth",
    "serve",
    "url_of",
]
