"""Security headers on every response: API, console files, health, metrics and errors alike.

Set as the response is prepared (aiohttp's on_response_prepare), not by a middleware: that also
reaches the static console files and the errors aiohttp itself answers, which a middleware
would miss, so no route can forget them.
"""

from __future__ import annotations

from aiohttp import web

# The console: everything from this server; no inline scripts, no frames, no third parties.
CONSOLE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Everything else is data, never a page: it may load nothing and be framed by no one.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"

EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(EVERY_RESPONSE)
    if is_console(request.path):
        response.headers["Content-Security-Policy"] = CONSOLE_POLICY
        # The console's files may be cached but are revalidated, so an upgrade shows at once.
        response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Content-Security-Policy"] = DATA_POLICY
        # Call records, numbers and tokens' answers: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"


def add_security_headers_to(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
