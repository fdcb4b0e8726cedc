"""Both reference clients name a failed verification with the same reason codes: the Python client's REASONS (what
verify_answer's `reason` can be) is exactly the set of reasons the JS client's verify (clients/js/src/verify.js)
can return, read from its source; and every code the Python client's verification raises maps into REASONS."""

from __future__ import annotations

import re
from pathlib import Path

from dmtp_key_registry_client.verify import _AS_REASON, REASONS

ROOT = Path(__file__).resolve().parents[2]
JS_VERIFY = ROOT / "clients" / "js" / "src" / "verify.js"
PY_VERIFY = ROOT / "clients" / "python" / "src" / "dmtp_key_registry_client" / "verify.py"


def js_reasons() -> set[str]:
    """Every literal reason in verify.js: `fail(checks, <check>, '<reason>', ...)`, `new Failure('<reason>', ...)`,
    the RPC failure's `'rpc-unavailable' : 'rpc-error'` and the catch-all for a bug."""
    source = JS_VERIFY.read_text()
    found = set(re.findall(r"fail\(checks, [^,]+, '([a-z0-9-]+)'", source))
    found |= set(re.findall(r"new Failure\('([a-z0-9-]+)'", source))
    found |= {reason for pair in re.findall(r"\? '([a-z0-9-]+)' : '([a-z0-9-]+)'", source) for reason in pair}
    found |= set(re.findall(r"'(verification-error)'", source))
    return found


def python_codes() -> set[str]:
    """Every code the Python client's verification module raises (`VerificationFailed("<code>", ...)`)."""
    return set(re.findall(r'VerificationFailed\(\s*"([a-z0-9-]+)"', PY_VERIFY.read_text()))


def test_the_js_clients_reason_codes_are_exactly_the_python_clients():
    assert js_reasons() == set(REASONS)


def test_every_code_the_python_verification_raises_is_a_shared_reason_or_renamed_into_one():
    unmapped = {code for code in python_codes() if _AS_REASON.get(code, code) not in REASONS}

    # missing-proof and not-confirmed belong to the raising verify only (verify_answer takes no proof as a batch
    # entry's, and the answer's status plays no part in it)
    assert unmapped == {"missing-proof", "not-confirmed"}


def test_the_watchers_retried_reasons_are_the_js_watchers():
    from dmtp_key_registry_client.watch import RETRIED_REASONS

    source = (ROOT / "clients" / "js" / "src" / "watch-keys.js").read_text()
    block = re.search(r"RETRIED_REASONS = (?:/\* @__PURE__ \*/ )?Object\.freeze\(\[(.*?)\]\)", source, re.S)
    assert block is not None, "clients/js/src/watch-keys.js exports no RETRIED_REASONS"

    assert set(re.findall(r"'([a-z0-9-]+)'", block.group(1))) == set(RETRIED_REASONS)
