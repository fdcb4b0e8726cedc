"""HTTP caching of the API's answers (issue 22; docs/PROTOCOL.md section 10): entity tags, conditional GET and
Cache-Control. Pure: app.py's route() applies `cache_answer` to every answer, once, after the handler.

Rules (RFC 9110 sections 8.8.3, 13.1.2 and 15.4.5; RFC 9111 section 5.2; RFC 8246 for `immutable`):
- A GET answered 200 carries a strong ETag: a quoted base64url SHA-256 of the exact body bytes sent, so two answers
  share a tag exactly when their bytes are equal, and any change to a record, a status or an anchored head is a new
  tag. It also carries the route's Cache-Control (app.py chooses it: `revalidating` for answers that change,
  IMMUTABLE for proofs and leaves of a fixed range).
- If-None-Match on such a GET is evaluated against that tag: `*`, or any tag of its comma-separated list equal to
  ours by the weak comparison RFC 9110 section 13.1.2 prescribes for If-None-Match (a `W/` prefix is ignored on
  either side: CloudFront weakens a strong tag when it compresses, and a browser then sends the weak form). A
  match answers 304 with no body, with the ETag and Cache-Control the 200 would have carried (section 15.4.5).
  An unparseable header never matches (the full answer is sent).
- Every other answer (errors, redirects, and answers to other methods) carries `Cache-Control: no-store` unless
  its handler chose one, and no ETag: a 404 must not hide a key registered a second later.
"""

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

IMMUTABLE = "public, max-age=31536000, immutable"
NO_STORE = "no-store"
NOT_MODIFIED = 304
# One entity-tag of an If-None-Match list: an optional weakness prefix and the quoted opaque tag (RFC 9110 8.8.3),
# followed by optional whitespace and the next comma or the end. Empty list elements are allowed (RFC 9110 5.6.1).
_ENTITY_TAG = re.compile(r'(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?=,|\Z)')
_SEPARATORS = " \t,"


def revalidating(max_age_s: int, stale_while_revalidate_s: int) -> str:
    """Cache-Control of an answer that changes: any cache may reuse it for max_age_s, then serve it stale for up to
    stale_while_revalidate_s more while it fetches a fresh one (RFC 5861), so an answer is at most their sum old."""
    return f"public, max-age={max_age_s}, stale-while-revalidate={stale_while_revalidate_s}"


def entity_tag(body: bytes) -> str:
    """The strong ETag of `body`: `"` + base64url (unpadded) of its SHA-256 + `"` (45 characters)."""
    digest = hashlib.sha256(body).digest()
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") + '"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match field value matches `tag` (weak comparison): the condition is false, so a GET
    answers 304. None, an empty value, a value that is not `*` or a list of entity-tags, or a list without `tag`:
    no match."""
    if if_none_match is None:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    listed: list[str] = []
    position = 0
    while True:
        while position < len(value) and value[position] in _SEPARATORS:
            position += 1
        if position == len(value):
            return tag.removeprefix("W/") in listed
        found = _ENTITY_TAG.match(value, position)
        if found is None:
            return False
        listed.append(found.group(1))
        position = found.end()


@dataclass(frozen=True)
class CachedAnswer:
    """What to send: the status, the headers to add to the handler's, and the body (b"" for 304)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def cache_answer(
    method: str, status: int, body: bytes, cache_control: str | None, if_none_match: str | None
) -> CachedAnswer:
    """The caching rules above for one answer. `cache_control`: the route's (or its handler's) choice for a 200 to
    a GET; for any other answer a choice its handler made (None: no-store)."""
    if method != "GET" or status != 200:
        return CachedAnswer(status, {"Cache-Control": cache_control or NO_STORE}, body)
    tag = entity_tag(body)
    headers = {"ETag": tag, "Cache-Control": cache_control or NO_STORE}
    if none_match(if_none_match, tag):
        return CachedAnswer(NOT_MODIFIED, headers, b"")
    return CachedAnswer(status, headers, body)
