"""An envelope's integer members take any JSON spelling of an integer (2 and 2.0 are one JSON Schema integer), as the
registration's own integers do (protocol._positive_int); the stored envelope holds the integer."""
import pytest

from chalicelib.envelopes import SCRYPT_AES256GCM, parse_envelope
from chalicelib.errors import InvalidField

ENVELOPE = {"version": SCRYPT_AES256GCM, "n": 131072, "r": 8, "p": 1, "salt": "ab" * 32, "nonce": "cd" * 12, "ciphertext": "ef" * 82}


def test_an_integral_float_is_taken_as_the_integer():
    parsed = parse_envelope({**ENVELOPE, "n": 262144.0, "p": 2.0})

    assert (parsed["n"], parsed["p"]) == (262144, 2) and type(parsed["p"]) is int


@pytest.mark.parametrize("p", [2.5, 5.0, True, "2"])
def test_anything_else_is_still_refused(p):
    with pytest.raises(InvalidField):
        parse_envelope({**ENVELOPE, "p": p})
