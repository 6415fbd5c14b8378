"""`GET {base}ui`: the live dashboard, served from static files inside the package.

The page is plain HTML, CSS and JavaScript modules in `nomad_bridge/ui/` (no build step,
nothing from a CDN) and uses the Cluster API as any client does: one `waitIndex` long poll
on `GET jobs` per page, and the mutation endpoints. It addresses everything by relative
URL, so it works under any `BRIDGE_BASE_PATH`.

Its two routes (`api/routes.py`) are declared open: the page and its assets hold no data,
so they need no token: the page asks the person
for a token and sends it as a bearer header on API calls only, never as a cookie, so no
other site can make a browser act with the person's rights. The headers forbid inline
script, framing and content-type sniffing: data is rendered as text, and even a slip that
rendered a job name as HTML could not run it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from nomad_bridge.api.problems import Problem

STATIC_DIR = Path(__file__).resolve().parent.parent / "ui"
PAGE = "index.html"

CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
PAGE_CONTENT_TYPE = CONTENT_TYPES[".html"]
ASSET_CONTENT_TYPES = tuple(sorted(set(CONTENT_TYPES.values()) - {PAGE_CONTENT_TYPE}))
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (cheap: an ETag match is a 304), so an upgrade shows at once.
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _load_assets(directory: Path) -> dict[str, Asset]:
    """Every servable file, read once: names not in this table are 404, whatever the path."""
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[path.name] = Asset(body, content_type, etag)
    return assets


ASSETS = _load_assets(STATIC_DIR)


def _serve(request: web.Request, asset: Asset) -> web.Response:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=asset.body, content_type=asset.content_type, charset="utf-8", headers=headers
    )


async def page(request: web.Request) -> web.Response:
    return _serve(request, ASSETS[PAGE])


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["asset"]
    found = ASSETS.get(name)
    if found is None or name == PAGE:
        raise Problem(404, f"the dashboard has no file {name[:64]!r}")
    return _serve(request, found)
