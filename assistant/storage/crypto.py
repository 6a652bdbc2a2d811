"""Encryption at rest for pseudonym maps (placeholder -> original name, address, ...).

AES-256-GCM with a random 96-bit nonce per encryption. The recording id is bound in as
associated data, so a ciphertext copied onto another recording's row fails to decrypt rather
than re-identifying the wrong family. ``key_id`` (first 8 hex chars of sha256(key)) is stored
beside each ciphertext so a key rotation is detected before decryption is even attempted.

Blob layout: ``b"\\x01" | nonce (12 bytes) | ciphertext+tag``. The leading byte is a format
version so the scheme can change without guessing.
"""

from __future__ import annotations

import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assistant.domain import PseudonymMap
from assistant.errors import CaseAssistError, ConfigurationError

_VERSION = b"\x01"
_NONCE_LEN = 12
KEY_LEN = 32


class MappingDecryptionError(CaseAssistError):
    """The map could not be decrypted: wrong key, another recording's blob, or corrupted data.

    The message carries key ids only, never any part of the plaintext or the key."""

    code = "mapping_decryption_failed"


class MappingKeyMismatch(MappingDecryptionError):
    """The stored ``key_id`` is not the current key's: the key was rotated without re-encrypting."""

    code = "mapping_key_mismatch"


class MappingCipher:
    """Encrypts and decrypts ``PseudonymMap`` values with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_LEN:
            raise ConfigurationError(
                f"the pseudonym-map key must be {KEY_LEN} random bytes; "
                "generate one with MappingCipher.generate_key()"
            )
        self._aead = AESGCM(bytes(key))
        self.key_id = hashlib.sha256(key).hexdigest()[:8]

    @staticmethod
    def generate_key() -> bytes:
        return AESGCM.generate_key(bit_length=KEY_LEN * 8)

    def __repr__(self) -> str:  # never show the key
        return f"MappingCipher(key_id={self.key_id!r})"

    def encrypt(self, mapping: PseudonymMap, *, associated_data: bytes = b"") -> bytes:
        plaintext = json.dumps(mapping.entries, sort_keys=True, ensure_ascii=False).encode()
        nonce = os.urandom(_NONCE_LEN)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, blob: bytes, *, associated_data: bytes = b"") -> PseudonymMap:
        if len(blob) < 1 + _NONCE_LEN + 16 or blob[:1] != _VERSION:
            raise MappingDecryptionError(
                f"pseudonym map has an unknown format (current key_id {self.key_id})"
            )
        nonce, body = blob[1 : 1 + _NONCE_LEN], blob[1 + _NONCE_LEN :]
        try:
            plaintext = self._aead.decrypt(nonce, body, associated_data)
        except InvalidTag:
            raise MappingDecryptionError(
                "pseudonym map could not be decrypted: wrong key, wrong recording or corrupted "
                f"data (current key_id {self.key_id})"
            ) from None
        return PseudonymMap(entries=json.loads(plaintext))
