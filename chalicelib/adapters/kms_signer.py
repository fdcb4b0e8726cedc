"""The contract owner's key in AWS KMS (ECC_SECG_P256K1, never exported) as an Ethereum signer.

KMS returns a DER ECDSA signature over the digest we send (MessageType=DIGEST) with no recovery id and
any s; Ethereum wants low s (EIP-2) and v, which we find by trying both recovery ids against our address.
"""

from typing import Any

from coincurve import PublicKey
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from dmtp_protocol.ethsig import SECP256K1_N, address_from_public_key


class KmsSigningError(RuntimeError):
    pass


class KmsSigner:
    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id
        self._address: str | None = None

    @property
    def address(self) -> str:
        if self._address is None:
            der = self._kms.get_public_key(KeyId=self._key_id)["PublicKey"]
            key = load_der_public_key(der)
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256K1):
                raise KmsSigningError(f"KMS key {self._key_id} is not a secp256k1 key")
            self._address = address_from_public_key(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
        return self._address

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """(r, s, recovery_id) of `digest` with low s."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        answer = self._kms.sign(
            KeyId=self._key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
        )
        r, s = decode_dss_signature(answer["Signature"])
        if s > SECP256K1_N // 2:
            s = SECP256K1_N - s
        for recovery_id in (0, 1):
            compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery_id])
            recovered = PublicKey.from_signature_and_message(compact, digest, hasher=None)
            if address_from_public_key(recovered.format(compressed=False)) == self.address:
                return r, s, recovery_id
        raise KmsSigningError("KMS signature recovers to neither recovery id: was the digest hashed again?")
