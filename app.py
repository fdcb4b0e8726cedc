"""HTTP and queue entry points: parse, call a use case, map errors. Nothing else lives here."""
import functools
import json
import os
import time
from typing import Any, Callable, Optional

from chalice import Chalice, Rate, Response

from chalicelib import services
from chalicelib.config import Settings
from chalicelib.errors import (
    PROBLEM_CONTENT_TYPE,
    MalformedRequest,
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
# Chalice answers other media types with its own 415 body; accept them here to answer in problem+json.
ACCEPTED_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def _problem(error: RegistryError) -> Response:
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE}
    if isinstance(error, QuotaExceeded):
        headers["Retry-After"] = str(error.retry_after_s)
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


@app.route("/keys", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
@limits_source
def register_key() -> Response:
    created, record = services.registry().register(_json_body())
    headers = {"Location": f"/keys/{record['wallet']}"}
    return _json_response(202 if created else 200, record, headers)


@app.route("/keys/{address}", methods=["GET"])
@maps_errors
def lookup_key(address: str) -> Response:
    return _json_response(200, services.registry().lookup(address, _query("asOf")))


@app.route("/keys/{address}/history", methods=["GET"])
@maps_errors
def key_history(address: str) -> Response:
    return _json_response(200, services.registry().history(address, _query("limit"), _query("cursor")))


@app.route("/keys/{address}/revocation", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
@limits_source
def revoke_key(address: str) -> Response:
    return _json_response(202, services.registry().revoke(address, _json_body()))


@app.route("/batch-lookup", methods=["POST"], content_types=ACCEPTED_CONTENT_TYPES)
@maps_errors
def batch_lookup() -> Response:
    return _json_response(200, services.registry().batch_lookup(_json_body()))


@app.route("/openapi.json", methods=["GET"])
@maps_errors
def openapi_document() -> Response:
    from chalicelib.openapi import load_openapi

    return _json_response(200, load_openapi())


@app.route("/config", methods=["GET"])
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
