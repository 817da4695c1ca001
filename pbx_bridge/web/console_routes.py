"""The web console: static HTML, JS and CSS shipped in the package, served at /console/.

No token is needed for the page itself (it holds no data); it asks for one and sends it as
`Authorization: Bearer` on every /api call. Nothing is fetched from the internet.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

CONSOLE_DIR = Path(__file__).parent / "console"
SECURITY_HEADERS = {
    # Everything comes from this server; no inline scripts, no frames, no third parties.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE_DIR / "index.html", headers=SECURITY_HEADERS)


async def to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def add_console_routes(app: web.Application) -> None:
    app.router.add_get("/console", to_index)
    app.router.add_get("/console/", index)
    app.router.add_static("/console/", CONSOLE_DIR, append_version=False)
