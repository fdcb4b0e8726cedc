"""The key explorer's files (chalicelib/api/static/), served by the API itself so `chalice deploy` ships the page.

Only the names listed here are served, each with its own content type: a request never reaches the file
system with a name it chose. Every byte the page loads comes from these files (no CDN, no outside fonts), and
the page's Content-Security-Policy holds it to that: scripts, styles and images only from our own origin;
fetches may go anywhere over http(s), because the user names the chain RPC URL the page verifies against.
"""

from dataclasses import dataclass
from pathlib import Path

from dmtp_protocol.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_NAME = "index.html"
# GET /static/{name}: name -> content type. dmtp-client.js is the browser bundle of clients/js.
ASSET_CONTENT_TYPES: dict[str, str] = {
    "explorer.js": "text/javascript; charset=utf-8",
    "explorer.css": "text/css; charset=utf-8",
    "dmtp-client.js": "text/javascript; charset=utf-8",
}
PAGE_CONTENT_TYPE = "text/html; charset=utf-8"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
COMMON_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class StaticFile:
    name: str
    text: str
    content_type: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **COMMON_HEADERS}


def _read(name: str, content_type: str) -> StaticFile:
    try:
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"{name} is not built into this deployment") from exc
    return StaticFile(name, text, content_type)


def explorer_page() -> StaticFile:
    return _read(PAGE_NAME, PAGE_CONTENT_TYPE)


def explorer_asset(name: str) -> StaticFile:
    """The asset called `name`; NotFound for any name outside ASSET_CONTENT_TYPES."""
    content_type = ASSET_CONTENT_TYPES.get(name)
    if content_type is None:
        raise NotFound(f"no static file named {name!r}")
    return _read(name, content_type)


def slash_redirect(request_path: str | None) -> str | None:
    """Where to send a browser that opened the page without a trailing slash (API Gateway's `/api`), or None.

    The page names its files relatively (`static/explorer.js`), so they resolve under the stage's path only when
    the page's own URL ends with a slash.
    """
    if not request_path or request_path.endswith("/"):
        return None
    return request_path + "/"
