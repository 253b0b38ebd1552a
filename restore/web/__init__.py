"""``restore serve``: a local web app over the Python API (``pip install "restore[web]"``).

Built on FastAPI + uvicorn with one hand-written page (``static/``), not Gradio: the page then
loads nothing but its own two files (no CDN, web fonts, analytics or version check to switch
off, and a Content-Security-Policy that forbids any other host), the mask brush works on a canvas
at the photo's own resolution, and the extra stays small (fastapi, uvicorn).

- :mod:`restore.web.app`: the routes (:func:`create_app`).
- :mod:`restore.web.jobs`: one worker thread per server (one model run at a time), progress, the
  temporary folder.
- :mod:`restore.web.tools`: what each tab runs, through :mod:`restore.photo` and
  :func:`restore.load`.
- :mod:`restore.web.uploads`: byte and pixel limits (the CLI's decoder and checks).
- :mod:`restore.web.server`: ``serve`` and a background server for tests and benchmarks.

Example:
    >>> from restore.web import serve
    >>> serve(port=7860)        # doctest: +SKIP
"""

from __future__ import annotations

from restore.web.app import create_app
from restore.web.server import BackgroundServer, bind_warnings, parse_auth, serve

__all__ = ["BackgroundServer", "bind_warnings", "create_app", "parse_auth", "serve"]
