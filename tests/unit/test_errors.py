"""The errors a client can see (dmtp_protocol/errors.py): RFC 9457 problem+json with a stable code."""

from dmtp_protocol.errors import (
    InvalidField,
    InvalidSignature,
    MethodNotAllowed,
    NotFound,
    QuotaExceeded,
    RegistryError,
    SignatureCheckTimeout,
    problem_for_unexpected,
)


def test_a_problem_names_its_type_by_its_code_with_title_status_detail_and_any_extra_members() -> None:
    error = InvalidField("version must be an integer from 1 to 2^53-1", field="version")
    assert str(error) == error.detail == "version must be an integer from 1 to 2^53-1"
    assert error.to_problem() == {
        "type": "urn:dmtp:problem:invalid-field",
        "title": "Invalid field",
        "status": 400,
        "detail": "version must be an integer from 1 to 2^53-1",
        "code": "invalid-field",
        "field": "version",
    }


def test_an_unexpected_error_is_a_500_that_says_only_that_it_was_logged() -> None:
    assert problem_for_unexpected() == {
        "type": "urn:dmtp:problem:internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "An unexpected error occurred; it has been logged.",
        "code": "internal-error",
    }


def test_a_quota_exceeded_problem_says_when_to_retry() -> None:
    error = QuotaExceeded("too many writes for this wallet today", 3600, scope="wallet")
    assert error.retry_after_s == 3600 and str(error) == "too many writes for this wallet today"
    assert error.to_problem() == {
        "type": "urn:dmtp:problem:quota-exceeded",
        "title": "Too many requests",
        "status": 429,
        "detail": "too many writes for this wallet today",
        "code": "quota-exceeded",
        "retryAfter": 3600,
        "scope": "wallet",
    }


def test_a_method_not_allowed_keeps_the_allowed_methods_for_the_allow_header_out_of_the_body() -> None:
    error = MethodNotAllowed("PUT is not allowed here", allow="GET, POST")
    assert error.allow == "GET, POST" and str(error) == "PUT is not allowed here"
    assert error.to_problem()["detail"] == "PUT is not allowed here" and "allow" not in error.to_problem()


def test_every_problem_type_is_the_urn_of_its_code() -> None:
    for error in (NotFound("no such wallet"), RegistryError("boom")):
        assert error.to_problem()["type"] == f"urn:dmtp:problem:{error.code}"


def test_a_signature_check_timeout_is_a_401_invalid_signature_with_a_code_of_its_own() -> None:
    error = SignatureCheckTimeout("the smart-contract wallet's ERC-1271 check did not finish within 5 s")
    assert isinstance(error, InvalidSignature)
    assert error.to_problem() == {
        "type": "urn:dmtp:problem:signature-check-timeout",
        "title": "Signature check took too long",
        "status": 401,
        "detail": "the smart-contract wallet's ERC-1271 check did not finish within 5 s",
        "code": "signature-check-timeout",
    }
