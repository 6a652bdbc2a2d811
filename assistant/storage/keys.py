"""Envelope encryption: a data key per recording, wrapped by the council's key-encryption key.

Every recording gets its own random 256-bit data key. Its audio file, transcripts, name map,
notes and note revisions are encrypted under it (AES-256-GCM); the data key itself is stored in
``data_keys`` only wrapped (encrypted) by the key-encryption key (KEK), which never touches the
database. Rotating the KEK re-wraps the small data keys, never the data; erasing a recording
deletes its data key, so any copy of its ciphertext left in a backup is unreadable.

The KEK comes from a ``KeyWrapper``: ``FileKeyWrapper`` (a key file, the default) or anything
with the same three members (an HSM or a cloud KMS: wrap and unwrap call the device, the key
never leaves it). ``Keyring`` holds the wrapper that wraps new data keys and any others still
needed to unwrap old ones (during a rotation), caches unwrapped data keys, and seals values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assistant.errors import ConfigurationError, DecryptionFailed

KEY_LEN = 32
_NONCE = 12
#: A sealed value in a JSON column: this prefix, then urlsafe base64 of nonce + ciphertext.
SEALED_PREFIX = "sealed:v1:"


@runtime_checkable
class KeyWrapper(Protocol):
    """A key-encryption key. ``key_id`` is stored beside each wrapped data key, so the right
    KEK is found after a rotation. An HSM or KMS implements the same three members."""

    key_id: str

    def wrap(self, data_key: bytes, *, associated_data: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, *, associated_data: bytes) -> bytes: ...


class AesKeyWrapper:
    """A KEK held in memory: AES-256-GCM over the data key, bound to its recording id."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ConfigurationError(f"a key-encryption key must be {KEY_LEN} bytes")
        self._aead = AESGCM(key)
        self.key_id = "file:" + hashlib.sha256(b"caseassist-kek" + key).hexdigest()[:12]

    def __repr__(self) -> str:  # never show the key
        return f"AesKeyWrapper(key_id={self.key_id!r})"

    def wrap(self, data_key: bytes, *, associated_data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, associated_data)

    def unwrap(self, wrapped: bytes, *, associated_data: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], associated_data)
        except InvalidTag:
            raise DecryptionFailed(
                f"a data key could not be unwrapped with key {self.key_id}: the key file does "
                "not match the one that wrapped it, or the wrapped key was altered"
            ) from None


def generate_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_LEN * 8)


def write_key_file(path: Path, key: bytes) -> None:
    """Create ``path`` with mode 0600 (never overwriting), holding the key in base64."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.urlsafe_b64encode(key) + b"\n")
        f.flush()
        os.fsync(f.fileno())


def read_key_file(path: Path) -> AesKeyWrapper:
    """The KEK in ``path``; a clear ``ConfigurationError`` (what to do) if it is not usable."""
    hint = (
        "restore the key file from the council's key backup, or point "
        "CASEASSIST_ENCRYPTION_KEY_FILE at it"
    )
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(
            f"the encryption key file {path} cannot be read ({exc.strerror}): {hint}"
        ) from None
    if mode & 0o077:
        raise ConfigurationError(
            f"the encryption key file {path} is readable by other users (mode "
            f"{mode & 0o777:o}): run `chmod 600 {path}`"
        )
    try:
        key = base64.urlsafe_b64decode(raw)
    except ValueError:
        key = b""
    if len(key) != KEY_LEN:
        raise ConfigurationError(
            f"the encryption key file {path} does not hold a {KEY_LEN}-byte key in base64: {hint}"
        )
    return AesKeyWrapper(key)


class KeyFiles:
    """The key file and the two files of a rotation in progress beside it:
    ``<file>.new`` (the next KEK, written first) and ``<file>.old`` (the previous KEK, kept
    until no data key is wrapped by it any more). See ``assistant.storage.repo.keys``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.new = path.with_name(path.name + ".new")
        self.old = path.with_name(path.name + ".old")

    def wrappers(self) -> tuple[KeyWrapper, list[KeyWrapper]]:
        """(the KEK that wraps new data keys, every KEK found). A pending ``.new`` wraps."""
        pending = read_key_file(self.new) if self.new.exists() else None
        # between a rotation's two renames only .new and .old exist
        current = read_key_file(self.path) if pending is None or self.path.exists() else None
        old = read_key_file(self.old) if self.old.exists() else None
        found: list[KeyWrapper] = [w for w in (pending, current, old) if w is not None]
        return found[0], found


class Keyring:
    """Wraps, unwraps and caches data keys, and seals values with them.

    ``wrapping`` wraps new data keys; ``others`` may still unwrap older ones. With ``files``
    the ring re-reads the key files when it meets a key id it does not hold, or before wrapping
    (a rotation run by ``caseassist keys rotate`` in another process is picked up)."""

    def __init__(
        self,
        wrapping: KeyWrapper,
        others: Iterable[KeyWrapper] = (),
        *,
        files: KeyFiles | None = None,
        cache_size: int = 1024,
    ) -> None:
        self._lock = threading.Lock()
        self._files = files
        self._stamp: tuple[float, ...] = ()
        self._set(wrapping, others)
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_key_file(cls, path: Path) -> Keyring:
        files = KeyFiles(path)
        wrapping, found = files.wrappers()
        ring = cls(wrapping, found, files=files)
        ring._stamp = ring._files_stamp()
        return ring

    def _set(self, wrapping: KeyWrapper, others: Iterable[KeyWrapper]) -> None:
        self.wrapping = wrapping
        self._by_id = {w.key_id: w for w in (wrapping, *others)}

    def __repr__(self) -> str:
        return f"Keyring(wrapping={self.wrapping.key_id!r}, keys={sorted(self._by_id)!r})"

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._by_id)

    def _files_stamp(self) -> tuple[float, ...]:
        assert self._files is not None
        paths = (self._files.path, self._files.new, self._files.old)
        return tuple(p.stat().st_mtime_ns if p.exists() else -1 for p in paths)

    def refresh(self) -> None:
        """Re-read the key files if they changed since last read (a rotation elsewhere)."""
        if self._files is None:
            return
        stamp = self._files_stamp()
        if stamp != self._stamp:
            wrapping, found = self._files.wrappers()
            with self._lock:
                self._set(wrapping, found)
                self._stamp = stamp

    def wrapper(self, key_id: str) -> KeyWrapper:
        if key_id not in self._by_id:
            self.refresh()
        try:
            return self._by_id[key_id]
        except KeyError:
            raise ConfigurationError(
                f"data keys are wrapped by key {key_id}, which is not configured (keys held: "
                f"{', '.join(self.key_ids)}): restore that key file (from the council's key "
                "backup) or point CASEASSIST_ENCRYPTION_KEY_FILE at it"
            ) from None

    # --- data keys ----------------------------------------------------------------------
    def new_data_key(self, recording_id: str) -> tuple[bytes, bytes, str]:
        """A fresh data key: (key, wrapped key, KEK id). Nothing is stored here."""
        self.refresh()
        key = generate_key()
        wrapped = self.wrapping.wrap(key, associated_data=key_ad(recording_id))
        self.remember(recording_id, key)
        return key, wrapped, self.wrapping.key_id

    def rewrap_if_rotated(
        self, recording_id: str, key: bytes, wrapped: bytes, key_id: str
    ) -> tuple[bytes, str]:
        """(wrapped key, KEK id) to store now: wrapped again if a rotation ran since the key
        was made (an upload can outlast a whole rotation, whose old KEK is then gone)."""
        self.refresh()
        if key_id == self.wrapping.key_id:
            return wrapped, key_id
        return self.wrapping.wrap(key, associated_data=key_ad(recording_id)), self.wrapping.key_id

    def unwrap(self, recording_id: str, wrapped: bytes, key_id: str) -> bytes:
        cached = self.cached(recording_id)
        if cached is not None:
            return cached
        key = self.wrapper(key_id).unwrap(wrapped, associated_data=key_ad(recording_id))
        self.remember(recording_id, key)
        return key

    def cached(self, recording_id: str) -> bytes | None:
        with self._lock:
            key = self._cache.get(recording_id)
            if key is not None:
                self._cache.move_to_end(recording_id)
            return key

    def remember(self, recording_id: str, key: bytes) -> None:
        with self._lock:
            self._cache[recording_id] = key
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self, recording_id: str) -> None:
        """Drop a cached data key (its recording was erased)."""
        with self._lock:
            self._cache.pop(recording_id, None)


def key_ad(recording_id: str) -> bytes:
    return b"data-key:" + recording_id.encode()


def seal_bytes(key: bytes, plaintext: bytes, *, object_id: str) -> bytes:
    """AES-256-GCM with a random nonce; ``object_id`` is the associated data."""
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, object_id.encode())


def open_bytes(key: bytes, blob: bytes, *, object_id: str) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], object_id.encode())
    except InvalidTag:
        raise DecryptionFailed(
            f"stored {object_id.split(':')[0]} could not be decrypted: wrong key, a value moved "
            "from another object, or altered bytes"
        ) from None


def seal_json(key: bytes, value: Any, *, object_id: str) -> str:
    """A JSON value as the string kept in its JSON column: ``sealed:v1:<base64>``."""
    plain = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    blob = seal_bytes(key, plain.encode(), object_id=object_id)
    return SEALED_PREFIX + base64.urlsafe_b64encode(blob).decode()


def open_json(key: bytes, stored: Any, *, object_id: str) -> Any:
    if not (isinstance(stored, str) and stored.startswith(SEALED_PREFIX)):
        raise DecryptionFailed(f"stored {object_id.split(':')[0]} is not encrypted")
    blob = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
    return json.loads(open_bytes(key, blob, object_id=object_id))


def is_sealed_json(stored: Any) -> bool:
    return isinstance(stored, str) and stored.startswith(SEALED_PREFIX)
