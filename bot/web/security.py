"""Headers every response carries: the pages run only our own scripts, never inside a frame of
another site, and nothing is sniffed into something it isn't."""

from __future__ import annotations

from typing import Any

from aiohttp import web

# No inline scripts or styles and no third-party origins: message text can never become markup
# that runs, even if a page had a bug. connect-src allows the service's own websockets.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as error:
        error.headers.update(HEADERS)
        raise
    if not response.prepared:  # a websocket has sent its headers already
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    if request.path.startswith(("/api/", "/desk/api/")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
