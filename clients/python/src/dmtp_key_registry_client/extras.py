"""What needs the `[sign]` extra: PyNaCl (X25519 DMTP keys and the `x25519-xsalsa20-poly1305` envelope that seals a
private key for a wallet). Looking keys up and verifying them never does: `pip install dmtp-key-registry-client`
verifies; `pip install 'dmtp-key-registry-client[sign]'` also makes, seals and opens keys. (coincurve and
cryptography, which signing also uses, come with dmtp-protocol: verification needs them too.)"""

from __future__ import annotations

SIGN_EXTRA = "dmtp-key-registry-client[sign]"
_DISTRIBUTIONS = {"nacl": "PyNaCl", "coincurve": "coincurve", "cryptography": "cryptography"}  # module -> on PyPI


class SignExtraMissing(ModuleNotFoundError):
    """Raised, naming the extra, when something needing the `[sign]` extra runs without it installed."""


def missing(what: str, exc: ModuleNotFoundError) -> SignExtraMissing:
    """The error for `what` (e.g. "sealing an x25519-xsalsa20-poly1305 envelope") needing a module that is not
    installed: it names the module and the extra that brings it."""
    module = (exc.name or "").split(".")[0] or "a module"  # the package, not the submodule that failed first
    return SignExtraMissing(
        f"{what} needs {_DISTRIBUTIONS.get(module, module)} (the {module} module, not installed): pip install "
        f"'{SIGN_EXTRA}'. Looking keys up and verifying them need nothing more.",
        name=module,
    )
