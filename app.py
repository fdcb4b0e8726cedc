"""HTTP and queue entry points: parse, call a use case, map errors. Nothing else lives here."""

import functools
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalice import Chalice, CORSConfig, Rate, Response
from chalice.app import Request

from chalicelib import bootstrap
from chalicelib.api import http_caching, static_files
from chalicelib.settings import Settings
from dmtp_protocol.errors import (
    PROBLEM_CONTENT_TYPE,
    MalformedRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    QuotaExceeded,
    RegistryError,
    UnsupportedMediaType,
    problem_for_unexpected,
)

app = Chalice(app_name="dmtp-key-registry")
app.log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
# Every setting is checked here, at import: a bad value (config.ConfigError, naming the variable) stops
# `chalice package`/`deploy`/`local` and, in Lambda, the function's start, instead of reaching a client. Secrets
# are read later, on first use. In Lambda every function also needs the contract deployed (CHAIN_ID, REGISTRY_ADDRESS).
_deployment = Settings.from_env(os.environ, read_secrets=False)
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    _deployment.require_deployment()
# Chalice answers a media type a route does not list with its own 415 body (not problem+json), even on a GET that
# carries a stray Content-Type: every route takes any type ("*/*" turns Chalice's check off) and _json_body
# answers 415 problem+json for a body that is not application/json.
ACCEPTED_CONTENT_TYPES = ["*/*"]
# CORS on every route (routes take app.api.cors when registered, so this comes before them). The route
# decorators need plain values at import time: the allowed origin follows the stage's environment. Chalice adds
# these headers to every answer of a route, problem+json errors included, and answers preflights itself
# (`chalice local`) or through the OPTIONS methods `chalice package`/`deploy` generate in API Gateway.
# If-None-Match is allowed (a script may revalidate a lookup itself) and ETag exposed (to read the tag it sends).
app.api.cors = CORSConfig(
    allow_origin=_deployment.cors_allow_origin,
    allow_headers=["Content-Type", "If-None-Match"],
    expose_headers=["Location", "Retry-After", "ETag"],
    max_age=600,
)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def _problem(error: RegistryError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM_CONTENT_TYPE}
    if isinstance(error, QuotaExceeded):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = error.allow
    return Response(body=json.dumps(error.to_problem()), status_code=error.status, headers=headers)


def _maps_errors(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Every route's one error mapping: a RegistryError becomes its problem+json; anything else a logged 500."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except RegistryError as error:
            return _problem(error)
        except Exception:
            app.log.exception("unhandled error in %s", handler.__name__)
            body = problem_for_unexpected()
            return Response(body=json.dumps(body), status_code=500, headers={"Content-Type": PROBLEM_CONTENT_TYPE})

    return wrapper


# How long a GET's 200 may be reused, chosen per route from the request's query and the answer
# (docs/PROTOCOL.md section 10): a Cache-Control value.
CachePolicy = Callable[[Mapping[str, str], Any], str]


def changing(query: Mapping[str, str], answer: Any) -> str:
    """An answer that changes (a record's status, a new version, a newer anchor): reused for READ_MAX_AGE_S, then
    stale for up to READ_STALE_WHILE_REVALIDATE_S while a cache fetches it again."""
    config = bootstrap.settings()
    return http_caching.revalidating(config.read_max_age_s, config.read_stale_while_revalidate_s)


def fixed(query: Mapping[str, str], answer: Any) -> str:
    """An answer about a fixed range of the append-only log (sizes and indices within the log's size: a 400
    otherwise), which can never change."""
    return http_caching.IMMUTABLE


def fixed_once_anchored(query: Mapping[str, str], answer: Any) -> str:
    """/log/inclusion: fixed when the request names treeSize and that size is the anchored head the answer names
    (a head of that size is anchored once, when final). Without treeSize the proof follows the latest anchor; an
    unanchored size's `anchored` may still change: those answers are `changing`."""
    return http_caching.IMMUTABLE if "treeSize" in query and answer["anchored"] is not None else changing(query, answer)


def _serves_json(handler: Callable[..., Any], cache: CachePolicy) -> Callable[..., Response]:
    """A GET handler's answer (JSON data) as a 200 carrying `cache`'s Cache-Control; a Response (static files,
    a redirect) is sent as its handler built it."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        answer = handler(*args, **kwargs)
        if isinstance(answer, Response):
            return answer
        return _json_response(200, answer, {"Cache-Control": cache(_request().query_params or {}, answer)})

    return wrapper


def _caches(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Every answer's caching headers, applied once (chalicelib/api/http_caching.py): a GET's 200 gets its ETag
    and answers If-None-Match with 304; any other answer gets no-store unless its handler chose otherwise."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = handler(*args, **kwargs)
        request = _request()
        body = response.body.encode("utf-8") if isinstance(response.body, str) else bytes(response.body)
        chosen = response.headers.get("Cache-Control")
        cached = http_caching.cache_answer(
            request.method,
            response.status_code,
            body,
            chosen if isinstance(chosen, str) else None,
            request.headers.get("if-none-match"),
        )
        response.headers.update(cached.headers)
        if cached.status == http_caching.NOT_MODIFIED:  # the 200's validators and freshness, no representation
            response.status_code, response.body = cached.status, ""
            response.headers.pop("Content-Type", None)
        return response

    return wrapper


# What a GET costs of its source's read limits, from its query (docs/PROTOCOL.md section 6, rule 1): units sized so
# that no unit answers much more than a batch lookup's entry. A query the use case will refuse costs 1.
ReadCost = Callable[[Mapping[str, str]], int]
_QUERY_INTEGER = re.compile(r"[0-9]{1,16}")


def one_read(query: Mapping[str, str]) -> int:
    return 1


def history_reads(query: Mapping[str, str]) -> int:
    """/history: one per version asked for (`limit`, 20 by default): an item carries its document, as a batch
    lookup's entry does."""
    text = query.get("limit", "20")
    return min(int(text), 100) if _QUERY_INTEGER.fullmatch(text) and int(text) > 0 else 1


def leaves_reads(query: Mapping[str, str]) -> int:
    """/log/leaves: one per 100 leaves asked for (at most 1,000 are answered; a leaf's entry is about 280 bytes)."""
    start, end = query.get("start", ""), query.get("end", "")
    if not (_QUERY_INTEGER.fullmatch(start) and _QUERY_INTEGER.fullmatch(end)) or int(end) <= int(start):
        return 1
    return math.ceil(min(int(end) - int(start), 1000) / 100)


def _limits_reads(handler: Callable[..., Response], cost: ReadCost) -> Callable[..., Response]:
    """A GET is charged `cost(query)` units of its source's read limits (chalicelib/api/read_limits.py) before its
    handler runs: past them, 429 with Retry-After. POST /batch-lookup charges its own, one unit per address
    (api/registry.py)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        bootstrap.read_limits().charge(_source(), cost(_request().query_params or {}))
        return handler(*args, **kwargs)

    return wrapper


def route(
    path: str, method: str, cache: CachePolicy = changing, reads: ReadCost = one_read
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Registers `handler` for `method` on `path`, its errors mapped to problem+json (_maps_errors) and every answer
    given its caching headers (_caches). Every route of the API is registered through here, so no route can answer
    an error or cache another way. A GET handler returns its answer's JSON data (a 200 with `cache`'s
    Cache-Control) or a Response, and is charged `reads(query)` units of its source's read limits first
    (_limits_reads); any other returns a Response."""

    def register(handler: Callable[..., Any]) -> Callable[..., Response]:
        answering = _limits_reads(_serves_json(handler, cache), reads) if method == "GET" else handler
        mapped = _caches(_maps_errors(answering))
        app.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(mapped)
        return mapped

    return register


def _request() -> Request:
    """The request being answered: Chalice sets it before it calls a route (it is None only outside one)."""
    request = app.current_request
    assert request is not None
    return request


def _source() -> str:
    identity = (_request().context or {}).get("identity") or {}
    return identity.get("sourceIp") or "unknown"


def _query(name: str) -> str | None:
    params = _request().query_params
    return params.get(name) if params is not None else None


def _json_body() -> Any:
    request = _request()
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("send the bundle as application/json")
    raw = request.raw_body or b""
    limit = bootstrap.settings().max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limit}", limit=limit)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # a few KB of "[" nest deeper than the parser's stack
        raise MalformedRequest("body nests too deeply") from exc


@route("/keys", "POST")
def register_key() -> Response:
    created, record = bootstrap.registry().register(_json_body(), _source())
    headers = {"Location": f"/keys/{record['wallet']}"}
    return _json_response(202 if created else 200, record, headers)


@route("/keys/{address}", "GET")
def lookup_key(address: str) -> Any:
    return bootstrap.registry().lookup(address, _query("asOf"))


@route("/keys/{address}/history", "GET", reads=history_reads)
def key_history(address: str) -> Any:
    return bootstrap.registry().history(address, _query("limit"), _query("cursor"))


@route("/keys/{address}/revocation", "POST")
def revoke_key(address: str) -> Response:
    return _json_response(202, bootstrap.registry().revoke(address, _json_body(), _source()))


@route("/batch-lookup", "POST")
def batch_lookup() -> Response:
    return _json_response(200, bootstrap.registry().batch_lookup(_json_body(), _source()))


# ---------------------------------------------------------------- the transparency log (issue 13)


@route("/log/head", "GET")
def log_head() -> Any:
    return bootstrap.log_queries().head()


@route("/log/inclusion", "GET", cache=fixed_once_anchored)
def log_inclusion() -> Any:
    return bootstrap.log_queries().inclusion(_query("wallet"), _query("version"), _query("treeSize"))


@route("/log/consistency", "GET", cache=fixed)
def log_consistency() -> Any:
    return bootstrap.log_queries().consistency(_query("from"), _query("to"))


@route("/log/leaves", "GET", cache=fixed, reads=leaves_reads)
def log_leaves() -> Any:
    return bootstrap.log_queries().leaves(_query("start"), _query("end"))


@route("/openapi.json", "GET")
def openapi_document() -> Any:
    from chalicelib.api.openapi import load_openapi

    return load_openapi()


@route("/config", "GET")
def public_config() -> Any:
    from dmtp_protocol.ethsig import BadAddress, to_checksum_address

    settings = bootstrap.settings()
    # EIP-55, as the personal_sign text names it (docs/PROTOCOL.md section 4), however the stage spells it.
    try:
        registry = to_checksum_address(settings.registry_address)
    except BadAddress:
        registry = settings.registry_address
    return {"chainId": settings.chain_id, "registry": registry}


def _static_response(file: static_files.StaticFile) -> Response:
    return Response(body=file.text, status_code=200, headers={**file.headers})


@route("/", "GET")
def explorer_page() -> Response:
    location = static_files.slash_redirect((_request().context or {}).get("path"))
    if location is not None:
        return Response(body="", status_code=308, headers={"Location": location})
    return _static_response(static_files.explorer_page())


@route("/static/{name}", "GET")
def explorer_asset(name: str) -> Response:
    return _static_response(static_files.explorer_asset(name))


# A method no route has. API Gateway (REST) answers such a request itself, before any Lambda, with 403
# {"message": "Missing Authentication Token"} (application/json), and chalice local imitates it; so every path
# declares the other methods API Gateway can route, and both answer 405 problem+json with Allow (RFC 9110 15.5.6).
# HEAD and OPTIONS stay undeclared (OPTIONS is CORS preflight); API Gateway cannot route TRACE or other verbs at all.
ROUTABLE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _method_not_allowed(allowed: tuple[str, ...]) -> Callable[..., Response]:
    def answer(**_: str) -> Response:
        method = _request().method
        return _problem(MethodNotAllowed(f"{method} is not allowed here; use {', '.join(allowed)}", ", ".join(allowed)))

    return answer


# The methods each path declares, read from the app's own route table (every route above is in it).
_DECLARED: dict[str, tuple[str, ...]] = {path: tuple(methods) for path, methods in app.routes.items()}
for _index, (_path, _allowed) in enumerate(_DECLARED.items()):
    _others = [method for method in ROUTABLE_METHODS if method not in _allowed]
    app.route(_path, methods=_others, content_types=ACCEPTED_CONTENT_TYPES, name=f"method_not_allowed_{_index}")(
        _caches(_method_not_allowed(_allowed))
    )


# chalice deploy/package import this module with the stage's environment, so the queue, the batching and the
# poller's concurrency follow the stage (the decorator needs plain values at import time). Lambda reports failed
# jobs one by one through ReportBatchItemFailures, which infra/chalice-merge.yaml turns on (Chalice has no
# setting for it). maximum_concurrency equals the worker's reserved_concurrency (tests/infra/test_infra.py).
@app.on_sqs_message(
    queue=_deployment.jobs_queue_name,
    batch_size=_deployment.job_batch_size,
    maximum_batching_window_in_seconds=_deployment.job_batch_window_s,
    maximum_concurrency=_deployment.worker_max_concurrency,
)
def process_jobs(event: Any) -> dict[str, Any]:
    from chalicelib.chain.lambdas import process_jobs as handle

    return handle(bootstrap.chain_worker(), event.to_dict()["Records"], event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def monitor_transactions(event: Any) -> dict[str, Any]:
    from chalicelib.chain.lambdas import monitor_transactions as watch

    config = bootstrap.settings()
    return watch(bootstrap.tx_monitor(), event.context, config.monitor_run_s, config.monitor_interval_s)
