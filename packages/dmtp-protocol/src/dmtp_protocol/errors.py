"""Every error a client can see: a stable machine-readable code and an RFC 9457 problem+json body."""

from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:dmtp:problem:"


class RegistryError(Exception):
    """An error with an HTTP status, a stable code and a human detail."""

    status = 500
    code = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class MalformedRequest(RegistryError):
    status, code, title = 400, "malformed-request", "Malformed request"


class InvalidField(RegistryError):
    status, code, title = 400, "invalid-field", "Invalid field"


class InvalidAddress(RegistryError):
    status, code, title = 400, "invalid-address", "Invalid wallet address"


class InvalidSignature(RegistryError):
    status, code, title = 401, "invalid-signature", "Signature does not match the wallet"


class SignatureCheckTimeout(InvalidSignature):
    """A contract wallet's signature check (ERC-1271 or ERC-6492 through eth_call) did not finish within the
    registry's timeout while the node itself answered: the wallet's code is too slow, so the signature is not
    accepted. An InvalidSignature with a code of its own, so a client can tell it from a plain no."""

    status, code, title = 401, "signature-check-timeout", "Signature check took too long"


class SignatureExpired(RegistryError):
    status, code, title = 401, "signature-expired", "Signature is outside its validity window"


class SignatureNotYetValid(RegistryError):
    status, code, title = 401, "signature-not-yet-valid", "Signature is outside its validity window"


class VersionConflict(RegistryError):
    status, code, title = 409, "version-conflict", "Version is not the wallet's next version"


class QuotaExceeded(RegistryError):
    status, code, title = 429, "quota-exceeded", "Too many requests"

    def __init__(self, detail: str, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, retryAfter=retry_after_s, **extra)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(RegistryError):
    status, code, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(RegistryError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class NotFound(RegistryError):
    status, code, title = 404, "not-found", "Not found"


class MethodNotAllowed(RegistryError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"

    def __init__(self, detail: str, allow: str) -> None:
        super().__init__(detail)
        self.allow = allow  # the Allow header: the methods the resource has


class PinningFailed(RegistryError):
    status, code, title = 502, "pinning-failed", "IPFS pinning failed"


class DependencyUnavailable(RegistryError):
    status, code, title = 503, "dependency-unavailable", "A backing service is unavailable"


def problem_for_unexpected() -> dict[str, Any]:
    return RegistryError("An unexpected error occurred; it has been logged.").to_problem()


class NotAnchored(RegistryError):
    """The transparency-log leaf asked for is not under any head anchored on chain yet (issue 13)."""

    status, code, title = 404, "not-anchored", "Not anchored on chain yet"


class LogBusy(RegistryError):
    """The transparency log's head kept moving: the record was not stored; sending it again is safe."""

    status, code, title = 503, "log-busy", "Transparency log busy"
