"""The web app: a FastAPI application serving one static page and a small JSON API.

Routes (all under the same origin; the page loads nothing from anywhere else, and its
Content-Security-Policy forbids it to):

- ``GET /``: the page; ``GET /static/...``: its script and style sheet.
- ``GET /api/models``: each tab's shipped models, the upload limits.
- ``POST /api/upload?name=FILE`` (body: the image's bytes): decoded with the CLI's checks;
  answers ``{"upload": ID, "width", "height", "url"}``, or ``{"error": message}`` (400, 413).
- ``POST /api/run/TOOL?upload=ID&...`` (body: optional mask PNG, white = damaged / hole): queues a
  run of ``photo``, ``sr``, ``inpaint``, ``colorize``, ``style`` or ``generate``; answers
  ``{"job": ID}``.
- ``GET /api/jobs/ID[?wait=S]``: status, stage, progress, place in the queue, result URLs
  (``wait`` holds the answer up to S seconds until the job ends).
- ``GET /api/jobs/ID/NAME.png``: a result file (``result``, ``mask``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from restore.data.io import resolve_max_pixels, write_image
from restore.errors import ConfigError, RestoreError
from restore.photo import DEFAULT_MODELS
from restore.web.jobs import GoneError, Job, JobQueue
from restore.web.tools import (
    TOOLS,
    Models,
    photo_options,
    run_generate,
    run_model,
    run_photo,
    tool_models,
)
from restore.web.uploads import (
    DEFAULT_MAX_MB,
    check_length,
    decode_mask,
    decode_upload,
    read_limited,
    safe_name,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
#: The page may only talk to the server it came from (no CDN, font or analytics host).
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
MAX_WAIT_S = 30.0


def create_app(
    *,
    device: str | None = None,
    max_bytes: int = int(DEFAULT_MAX_MB * 2**20),
    max_pixels: int | None = None,
    auth: tuple[str, str] | None = None,
    keep: int = 32,
    preload: bool = True,
    temp_root: str | None = None,
) -> FastAPI:
    """The app. Its job queue (and temporary folder) lives from start-up to shutdown.

    Args:
        device: where models run (default: CUDA when available).
        max_bytes: largest upload, in bytes.
        max_pixels: largest image (width * height); default: the CLI's limit.
        auth: (user, password) for HTTP basic authentication of every request.
        keep: uploads and jobs whose files are kept (older ones are deleted).
        preload: load the photo pipeline's models at start-up (in the queue, before any job).
        temp_root: parent of the temporary folder (default: the system's).
    """
    limit = resolve_max_pixels(max_pixels)
    models = Models(device)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        q = JobQueue(keep=keep, root=temp_root)
        app.state.queue = q
        if preload:
            names = [DEFAULT_MODELS[s] for s in ("detect", "inpaint", "enhance")]
            q.submit("load", lambda job: {"loaded": [models.get(n).name for n in names]})
        try:
            yield
        finally:
            await run_in_threadpool(q.close)

    # no /docs or /redoc: their pages load scripts and fonts from a CDN
    app = FastAPI(
        title="restore", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.models = models
    app.state.max_bytes, app.state.max_pixels = max_bytes, limit

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if auth is not None and not _authorized(request.headers.get("authorization"), auth):
            return JSONResponse(
                {"error": "sign in with the user and password given to restore serve --auth"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="restore", charset="UTF-8"'},
            )
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(RestoreError)
    async def user_error(request: Request, exc: RestoreError) -> JSONResponse:
        status = getattr(exc, "status", 400)
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.get("/")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/models")
    async def about() -> dict[str, Any]:
        return {
            "tools": tool_models(),
            "device": str(models.device),
            "max_bytes": max_bytes,
            "max_pixels": limit,
        }

    @app.post("/api/upload")
    async def upload(request: Request) -> dict[str, Any]:
        name = safe_name(request.query_params.get("name"))
        check_length(request.headers.get("content-length"), max_bytes, name)
        data = await read_limited(request.stream(), max_bytes, name)
        img = await run_in_threadpool(decode_upload, data, name, limit)
        q: JobQueue = request.app.state.queue
        up = q.add_upload(name, img)
        await run_in_threadpool(write_image, up.folder / "input.png", img)
        h, w = img.size
        return {"upload": up.id, "name": name, "width": w, "height": h, "url": _url(up.id)}

    @app.get("/api/uploads/{upload_id}/input.png")
    async def upload_file(request: Request, upload_id: str) -> FileResponse:
        up = request.app.state.queue.upload(upload_id)
        return FileResponse(up.folder / "input.png", media_type="image/png")

    @app.post("/api/run/{tool}")
    async def run(request: Request, tool: str) -> dict[str, Any]:
        if tool not in TOOLS:
            raise GoneError(f"no tool {tool!r}; tools: {list(TOOLS)}")
        q: JobQueue = request.app.state.queue
        query = dict(request.query_params)
        check_length(request.headers.get("content-length"), max_bytes, "mask")
        body = (
            await read_limited(request.stream(), max_bytes, "mask") if _has_body(request) else b""
        )
        if tool == "generate":
            name, n, seed = query.get("model", ""), _int(query, "n", 16), _int(query, "seed", 0)
            label = _int(query, "label", 0) if query.get("label", "").strip() else None
            job = q.submit(
                tool, lambda j: run_generate(j, models, name, n, seed, label), megapixels=0.1
            )
            return {"job": job.id}
        up = q.upload(query.get("upload", ""))
        mask = await run_in_threadpool(decode_mask, body, up.image.size, limit) if body else None
        h, w = up.image.size
        mp = h * w / 1e6
        if tool == "photo":
            opts = photo_options(query)
            job = q.submit(
                tool, lambda j: run_photo(j, models, up.image, opts, mask), megapixels=mp
            )
        else:
            default = (tool_models().get(tool) or [""])[0]
            name = query.get("model") or default
            job = q.submit(
                tool, lambda j: run_model(j, models, tool, up.image, name, mask), megapixels=mp
            )
        return {"job": job.id}

    @app.get("/api/jobs/{job_id}")
    async def status(request: Request, job_id: str, wait: float = 0.0) -> dict[str, Any]:
        q: JobQueue = request.app.state.queue
        job = q.job(job_id)
        deadline = asyncio.get_running_loop().time() + min(max(wait, 0.0), MAX_WAIT_S)
        while not job.done.is_set() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        return _status(q, job)

    @app.get("/api/jobs/{job_id}/{name}.png")
    async def result(request: Request, job_id: str, name: str) -> FileResponse:
        job = request.app.state.queue.job(job_id)
        if name not in job.outputs:
            raise GoneError(f"job {job_id} has no {name}.png (it has {sorted(job.outputs)})")
        return FileResponse(job.outputs[name], media_type="image/png", filename=f"{name}.png")

    return app


def _status(q: JobQueue, job: Job) -> dict[str, Any]:
    return {
        "job": job.id,
        "kind": job.kind,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 3),
        "elapsed": round(job.elapsed(), 3),
        "expected": None if job.expected_s is None else round(job.expected_s, 3),
        "position": q.position(job),
        "error": job.error,
        "outputs": {k: f"/api/jobs/{job.id}/{k}.png" for k in job.outputs},
        "info": job.info,
    }


def _url(upload_id: str) -> str:
    return f"/api/uploads/{upload_id}/input.png"


def _has_body(request: Request) -> bool:
    return request.headers.get("content-length", "0") != "0" or "chunked" in request.headers.get(
        "transfer-encoding", ""
    )


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return int(query.get(key, default))
    except ValueError:
        raise ConfigError(f"{key}={query[key]!r}: not a whole number") from None


def _authorized(header: str | None, auth: tuple[str, str]) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    ok_user = secrets.compare_digest(user.encode(), auth[0].encode())
    return ok_user & secrets.compare_digest(password.encode(), auth[1].encode())


__all__ = ["CSP", "create_app"]
