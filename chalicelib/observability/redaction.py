"""Keeps credentials that live in URLs out of logs, traces and error messages.

RPC providers (Alchemy, Infura, QuickNode, ...) put the API key in the URL: in its path (`/v2/<key>`), its query
(`?apikey=<key>`) or its userinfo (`https://user:<key>@host`). requests, urllib3 and web3 put the whole URL in
their exception texts (`HTTPSConnectionPool(host=..., port=443): Max retries exceeded with url: /v2/<key>`) and
debug lines. Every text that can carry such a URL goes through `redact_urls` before it is logged, raised or
traced: an absolute URL keeps its scheme, host and port only; a bare `url: /path` (urllib3's form) loses its path.

Invariant: what `redact_urls` returns contains no URL path beyond `/`, no query and no userinfo of any http(s) or
ws(s) URL in its input, and nothing else of the text changes.
"""

import re

REDACTED = "<redacted>"

# scheme://[userinfo@]host[:port][/path][?query][#fragment], up to a character that ends a URL in running text.
_ABSOLUTE_URL = re.compile(
    r"(?P<scheme>\b(?:https?|wss?)://)"
    r"(?:[^\s/@'\"<>]*@)?"  # userinfo
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s/:?#@'\"<>)]+)"
    r"(?P<port>:\d+)?"
    r"(?P<rest>[/?#][^\s'\"<>)]*)?"
)
# urllib3's "Max retries exceeded with url: /v2/<key>?x=y (Caused by ...)" names the path alone.
_BARE_PATH = re.compile(r"(?P<label>\burl: )(?P<path>/[^\s'\"<>)]*)")


def redact_url(url: str) -> str:
    """`scheme://host[:port]/<redacted>` for one URL (the form to print when a message must name the endpoint)."""
    return redact_urls(url)


def redact_urls(text: str) -> str:
    """`text` with every URL's userinfo, path, query and fragment replaced by <redacted> (module docstring)."""
    text = _ABSOLUTE_URL.sub(_shorten, text)
    return _BARE_PATH.sub(lambda found: found["label"] + "/" + REDACTED, text)


def _shorten(found: re.Match[str]) -> str:
    kept = found["scheme"] + found["host"] + (found["port"] or "")
    rest = found["rest"]
    return kept + ("/" + REDACTED if rest and rest not in ("/",) else (rest or ""))
