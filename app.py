"""HTTP and queue entry points: parse, call a use case, map errors. Nothing else lives here."""
import functools
import json
import os
import time
from typing import Any, Callable, Optional

from chalice import Chalice, CORSConfig, Rate, Response

from chalicelib import services
from chalicelib import static_files
from chalicelib.config import Settings
from chalicelib.errors import (
    PROBLEM_CONTENT_TYPE,
    MalformedRequest,
    PayloadTooLarge,
    MethodNotAllowed,
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
app.api.cors = CORSConfig(
    allow_origin=_deployment.cors_allow_origin,
    allow_headers=["Content-Type"],
    expose_headers=["Location", "Retry-After"],
    max_age=600,
)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def _problem(error: RegistryError) -> Response:
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE}
    if isinstance(error, QuotaExceeded):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = error.allow
    return Response(body=json.dumps(error.to_problem()), status_code=error.status, headers=headers)


def maps_errors(handler: Callable[..., Response]) -> Callable[..., Response]:
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


def limits_source(handler: Callable[..., Response]) -> Callable[..., Response]:
    """The per-source limit (SOURCE_REQUESTS_PER_MINUTE, one DynamoDB write) for writes only: reads write
    nothing, and are limited per source at the edge (API Gateway throttling, the optional WAF rate rule in
    infra/chalice-merge.yaml)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        services.quotas().charge_source(_source(), int(time.time()))
        return handler(*args, **kwargs)

    return wrapper


def _source() -> str:
    identity = (app.current_request.context or {}).get("identity") or {}
    return identity.get("sourceIp") or "unknown"


def _query(name: str) -> Optional[str]:
    return (app.current_request.query_params or {}).get(name)


def _json_body() -> Any:
    request = app.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("send the bundle as application/json")
    raw = request.raw_body or b""
    limit = services.settings().max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limit}", limit=limit)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # a few KB of "[" nest deeper than the parser's stack
        raise MalformedRequest("body nests too deeply") from exc


@app.route("/keys", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
@limits_source
def register_key() -> Response:
    created, record = services.registry().register(_json_body(), _source())
    headers = {"Location": f"/keys/{record['wallet']}"}
    return _json_response(202 if created else 200, record, headers)


@app.route("/keys/{address}", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def lookup_key(address: str) -> Response:
    return _json_response(200, services.registry().lookup(address, _query("asOf")))


@app.route("/keys/{address}/history", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def key_history(address: str) -> Response:
    return _json_response(200, services.registry().history(address, _query("limit"), _query("cursor")))


@app.route("/keys/{address}/revocation", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
@limits_source
def revoke_key(address: str) -> Response:
    return _json_response(202, services.registry().revoke(address, _json_body(), _source()))


@app.route("/batch-lookup", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def batch_lookup() -> Response:
    return _json_response(200, services.registry().batch_lookup(_json_body()))


# ---------------------------------------------------------------- the transparency log (issue 13)


@app.route("/log/head", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def log_head() -> Response:
    return _json_response(200, services.log_queries().head())


@app.route("/log/inclusion", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def log_inclusion() -> Response:
    return _json_response(200, services.log_queries().inclusion(_query("wallet"), _query("version"), _query("treeSize")))


@app.route("/log/consistency", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def log_consistency() -> Response:
    return _json_response(200, services.log_queries().consistency(_query("from"), _query("to")))


@app.route("/log/leaves", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def log_leaves() -> Response:
    return _json_response(200, services.log_queries().leaves(_query("start"), _query("end")))


@app.route("/openapi.json", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def openapi_document() -> Response:
    from chalicelib.openapi import load_openapi

    return _json_response(200, load_openapi())


@app.route("/config", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def public_config() -> Response:
    from chalicelib.ethsig import BadAddress, to_checksum_address

    settings = services.settings()
    # EIP-55, as the personal_sign text names it (docs/PROTOCOL.md section 4), however the stage spells it.
    try:
        registry = to_checksum_address(settings.registry_address)
    except BadAddress:
        registry = settings.registry_address
    return _json_response(200, {"chainId": settings.chain_id, "registry": registry})


def _static_response(file: static_files.StaticFile) -> Response:
    return Response(body=file.text, status_code=200, headers=file.headers)


@app.route("/", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def explorer_page() -> Response:
    location = static_files.slash_redirect((app.current_request.context or {}).get("path"))
    if location is not None:
        return Response(body="", status_code=308, headers={"Location": location})
    return _static_response(static_files.explorer_page())


@app.route("/static/{name}", methods=["GET"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def explorer_asset(name: str) -> Response:
    return _static_response(static_files.explorer_asset(name))


# A method no route has. API Gateway (REST) answers such a request itself, before any Lambda, with 403
# {"message": "Missing Authentication Token"} (application/json), and chalice local imitates it; so every path
# declares the other methods API Gateway can route, and both answer 405 problem+json with Allow (RFC 9110 15.5.6).
# HEAD and OPTIONS stay undeclared (OPTIONS is CORS preflight); API Gateway cannot route TRACE or other verbs at all.
ROUTABLE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_DECLARED: dict[str, tuple[str, ...]] = {
    "/keys": ("POST",),
    "/keys/{address}": ("GET",),
    "/keys/{address}/history": ("GET",),
    "/keys/{address}/revocation": ("POST",),
    "/batch-lookup": ("POST",),
    "/log/head": ("GET",),
    "/log/inclusion": ("GET",),
    "/log/consistency": ("GET",),
    "/log/leaves": ("GET",),
    "/openapi.json": ("GET",),
    "/config": ("GET",),
    "/": ("GET",),
    "/static/{name}": ("GET",),
}


def _method_not_allowed(allowed: tuple[str, ...]) -> Callable[..., Response]:
    def answer(**_: str) -> Response:
        method = app.current_request.method
        return _problem(MethodNotAllowed(f"{method} is not allowed here; use {', '.join(allowed)}", ", ".join(allowed)))

    return answer


for _index, (_path, _allowed) in enumerate(_DECLARED.items()):
    _others = [method for method in ROUTABLE_METHODS if method not in _allowed]
    app.route(_path, methods=_others, content_types=ACCEPTED_CONTENT_TYPES, name=f"method_not_allowed_{_index}")(_method_not_allowed(_allowed))


# chalice deploy/package import this module with the stage's environment, so the queue, the batching and the
# poller's concurrency follow the stage (the decorator needs plain values at import time). Lambda reports failed
# jobs one by one through ReportBatchItemFailures, which infra/chalice-merge.yaml turns on (Chalice has no
# setting for it). maximum_concurrency equals the worker's reserved_concurrency (tests/test_infra.py).
@app.on_sqs_message(
    queue=_deployment.jobs_queue_name,
    batch_size=_deployment.job_batch_size,
    maximum_batching_window_in_seconds=_deployment.job_batch_window_s,
    maximum_concurrency=_deployment.worker_max_concurrency,
)
def process_jobs(event: Any) -> dict[str, Any]:
    from chalicelib.lambdas import process_jobs as handle

    return handle(services.chain_worker(), event.to_dict()["Records"], event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def monitor_transactions(event: Any) -> dict[str, Any]:
    from chalicelib.lambdas import monitor_transactions as watch

    config = services.settings()
    return watch(services.tx_monitor(), event.context, config.monitor_run_s, config.monitor_interval_s)
