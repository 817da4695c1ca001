"""The web console: static HTML, JS and CSS shipped in the package, served at /console/.

No token is needed for the page itself (it holds no data); it asks for one and sends it as
`Authorization: Bearer` on every /api call. Nothing is fetched from the internet. Its
Content-Security-Policy, on every console file, is set by web/headers.py.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

CONSOLE_DIR = Path(__file__).parent / "console"


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE_DIR / "index.html")


async def to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def add_console_routes(app: web.Application) -> None:
    app.router.add_get("/console", to_index)
    app.router.add_get("/console/", index)
    app.router.add_static("/console/", CONSOLE_DIR, append_version=False)
