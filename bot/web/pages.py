"""The pages people use, served by the service itself from bot/web/static/: no CDN, no build step.

GET /                  the demo shop (DEMO_PAGES on), otherwise the agent desk
GET /demo/             the fictional shop's home page with the chat widget embedded;
                       ?as=C1001 browses as a signed-in demo customer, ?lang=vi chats in
                       Vietnamese (or id, zh; default en) (DEMO_PAGES only)
GET /widget.js         the embeddable chat widget: one script tag, options as data- attributes
                       (widget/widget.js with the shared DOM helpers put in, see widget_script)
GET /desk/             the agent desk (sign-in, queue, conversations, customer, remedies)
GET /desk/supervisor   the supervisor view (live figures, approvals, audit, join)
GET /desk/designer     the conversation designer's review, labels, retraining and report
GET /desk/insights     the designer's charts over a period (containment, handoffs, satisfaction)
GET /static/...        the files those pages load

The widget can be embedded on the shop's own site at another origin; its HTTP calls then need
CORS, which `cors` allows only for ALLOWED_ORIGINS and only on the customer routes under /api/
(never /desk/: the desk is same-origin only, with a SameSite=Strict cookie).
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channel import identity
from bot.ops.demo import CUSTOMERS
from bot.services import SERVICES
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
CORS_METHODS = "GET, POST"
CORS_HEADERS = "Authorization, Content-Type"
# Revalidate on every load (a 304 when unchanged), so a deploy never leaves a stale page.
REVALIDATE = ("/static/", "/widget.js", "/demo/", "/desk/")
# With nosniff a browser uses a file only under its right type, so the types are ours, not the
# machine's MIME table (some have no entry for .woff2); nothing else under static/ is served.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


# The widget's source imports the desk's DOM helpers; on the shop's page it must be one classic
# script (a module has no document.currentScript to read its options from, and a cross-origin
# import would need CORS on /static/).
WIDGET_IMPORT = re.compile(r'^import \{([^}]*)\} from "\.\./shared/dom\.js";\n', re.M)
EXPORT = re.compile(r"^export (?=(const|let|function|class) )", re.M)


def widget_script() -> str:
    """widget/widget.js as one classic script: its import of shared/dom.js replaced by dom.js's
    own code in a scope of its own (so its names can't clash with the widget's), handing over
    only the names imported, and the whole in a strict function, as the module was."""
    widget = (STATIC / "widget" / "widget.js").read_text(encoding="utf-8")
    dom = (STATIC / "shared" / "dom.js").read_text(encoding="utf-8")
    found = WIDGET_IMPORT.search(widget)
    helpers = EXPORT.sub("", dom)
    if found is None or re.search(r"^(import|export)\b", helpers + widget[found.end() :], re.M):
        raise RuntimeError("widget.js must import from ../shared/dom.js only, on one line")
    names = ", ".join(name.strip() for name in found[1].split(","))
    scope = f"const {{ {names} }} = (() => {{\n{helpers}\nreturn {{ {names} }};\n}})();\n"
    body = widget[: found.start()] + scope + widget[found.end() :]
    return f'(() => {{\n"use strict";\n{body}}})();\n'


def _script(text: str) -> Any:
    body = text.encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:20]

    async def serve(request: web.Request) -> web.Response:
        headers = {"ETag": f'"{etag}"'}
        if any(tag.value == etag for tag in request.if_none_match or ()):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers=headers | {"Content-Type": TYPES[".js"]})

    return serve


def _serve(path: Path) -> web.FileResponse:
    return web.FileResponse(path, headers={"Content-Type": TYPES[path.suffix]})


def _file(name: str) -> Any:
    async def serve(request: web.Request) -> web.FileResponse:
        return _serve(STATIC / name)

    return serve


async def static(request: web.Request) -> web.FileResponse:
    """A file under bot/web/static/ of a known type; nothing outside it, no listings."""
    try:
        path = (STATIC / request.match_info["path"]).resolve(strict=True)
    except (OSError, RuntimeError):
        raise web.HTTPNotFound() from None
    if not path.is_relative_to(STATIC) or not path.is_file() or path.suffix not in TYPES:
        raise web.HTTPNotFound()
    return _serve(path)


# The languages the demo's widget can chat in, as the demo bar names them.
DEMO_LANGUAGES = {"en": "English", "vi": "Tiếng Việt", "id": "Bahasa Indonesia", "zh": "中文"}


def _demo_language(request: web.Request) -> str:
    wanted = request.query.get("lang", "")
    return wanted if wanted in DEMO_LANGUAGES else "en"


def _demo_customer(request: web.Request) -> str | None:
    """The demo customer to browse as, from ?as=; None for an anonymous visitor."""
    wanted = request.query.get("as", "")
    return wanted if wanted in {c[0] for c in CUSTOMERS} else None


def render_demo(settings: Settings, customer_id: str | None, language: str = "en") -> str:
    """The demo shop page, with the signed identity the shop's own site would put in the
    widget's script tag for a signed-in customer (bot/channel/identity.py), and the language
    the widget starts its conversation in (the page itself stays English)."""
    page = (STATIC / "demo" / "index.html").read_text(encoding="utf-8")
    signed = identity.sign(settings.customer_identity_secret, customer_id) if customer_id else ""
    options = ['<option value="">Guest (not signed in)</option>']
    for cid, name, *_ in CUSTOMERS:
        chosen = " selected" if cid == customer_id else ""
        options.append(
            f'<option value="{html.escape(cid)}"{chosen}>{html.escape(name)} ({cid})</option>'
        )
    languages = [
        f'<option value="{code}"{" selected" if code == language else ""}>'
        f"{html.escape(name)}</option>"
        for code, name in DEMO_LANGUAGES.items()
    ]
    who = next((c[1] for c in CUSTOMERS if c[0] == customer_id), None)
    greeting = f"Hi {who.split()[0]}" if who else "Sign in"
    return (
        page.replace("{{customer_token}}", html.escape(signed, quote=True))
        .replace("{{customer_options}}", "\n".join(options))
        .replace("{{language_options}}", "\n".join(languages))
        .replace("{{language}}", language)
        .replace("{{account_label}}", html.escape(greeting))
    )


async def demo(request: web.Request) -> web.Response:
    settings = request.app[SERVICES].settings
    if not settings.demo_pages:
        raise web.HTTPNotFound()
    body = render_demo(settings, _demo_customer(request), _demo_language(request))
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


async def home(request: web.Request) -> web.Response:
    target = "/demo/" if request.app[SERVICES].settings.demo_pages else "/desk/"
    raise web.HTTPFound(target)


async def desk_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/desk/")


def _allowed_origin(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in request.app[SERVICES].settings.allowed_origins:
        return origin
    return None


def _cors_headers(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Cross-origin calls from the widget on the shop's site: /api/ only, ALLOWED_ORIGINS only.

    No credentials are involved (the widget sends its conversation token as a Bearer header),
    so no Access-Control-Allow-Credentials; a foreign origin gets no CORS headers at all and the
    browser keeps the answer from it.
    """
    if not request.path.startswith("/api/") or "Origin" not in request.headers:
        response: web.StreamResponse = await handler(request)
        return response
    origin = _allowed_origin(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if origin is None:
            return web.json_response(
                {"error": "origin_not_allowed", "message": "this origin may not use the chat"},
                status=403,
            )
        return web.Response(
            status=204,
            headers=_cors_headers(origin)
            | {
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Max-Age": "600",
            },
        )
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if origin is not None:
            error.headers.update(_cors_headers(origin))
        raise
    if origin is not None and not response.prepared:  # a websocket checks Origin itself
        response.headers.update(_cors_headers(origin))
    return response


async def _revalidate(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(REVALIDATE) and not request.path.startswith("/desk/api/"):
        response.headers.setdefault("Cache-Control", "no-cache")


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home)
    r.add_get("/demo", home)
    r.add_get("/demo/", demo)
    widget = _script(widget_script())  # put together once, at start-up
    r.add_get("/widget.js", widget)
    r.add_get("/static/widget/widget.js", widget)  # before /static/: the source is a module
    r.add_get("/desk", desk_redirect)
    r.add_get("/desk/", _file("desk/index.html"))
    r.add_get("/desk/supervisor", _file("desk/supervisor.html"))
    r.add_get("/desk/designer", _file("designer/designer.html"))
    r.add_get("/desk/insights", _file("designer/insights.html"))
    r.add_get("/static/{path:.+}", static)
    app.on_response_prepare.append(_revalidate)
