"""Audio files at rest: AES-256-GCM in fixed 64 KiB chunks, so any byte range decrypts alone.

Layout: a 13-byte header (``b"CASEALED"``, format version 1, chunk size as 4 bytes big-endian),
then one record per chunk: a random 12-byte nonce, the chunk's ciphertext and its 16-byte tag.
Each chunk's associated data is the object id (``aad``: which recording), the header, the
chunk's index and whether it is the last, so a chunk cannot be moved, reordered, dropped from
the end or copied into another recording's file without failing to decrypt. The plaintext size
follows from the file size, so a reader never decrypts what it does not return.

This module is handed its 32-byte data key; where keys come from (``assistant.storage.keys``)
is not its concern.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assistant.errors import DecryptionFailed

MAGIC = b"CASEALED"
VERSION = 1
CHUNK = 64 * 1024
NONCE = 12
TAG = 16
HEADER = MAGIC + bytes([VERSION]) + struct.pack(">I", CHUNK)
OVERHEAD = NONCE + TAG


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def _chunk_ad(aad: bytes, index: int, final: bool) -> bytes:
    return aad + HEADER + struct.pack(">Q?", index, final)


@dataclass(frozen=True)
class SealedFile:
    """An encrypted audio file and what opens it: its data key and its object id."""

    path: Path
    key: bytes = field(repr=False)
    aad: bytes

    def open(self) -> SealedReader:
        return SealedReader(self.path, self.key, self.aad)

    @property
    def size(self) -> int:
        """The plaintext size in bytes."""
        return plaintext_size(self.path.stat().st_size)


#: What the audio functions accept: a plain file (``caseassist process``) or a sealed one.
AudioSource = Path | SealedFile


def open_audio(source: AudioSource) -> io.BufferedReader:
    if isinstance(source, SealedFile):
        return io.BufferedReader(source.open(), buffer_size=CHUNK)
    return open(source, "rb")  # noqa: SIM115 - the caller closes it


def audio_size(source: AudioSource) -> int:
    return source.size if isinstance(source, SealedFile) else source.stat().st_size


def plaintext_size(file_size: int) -> int:
    body = file_size - len(HEADER)
    if body < OVERHEAD:
        raise DecryptionFailed("encrypted audio file is truncated (shorter than one chunk)")
    chunks = -(-body // (CHUNK + OVERHEAD))
    return body - chunks * OVERHEAD


class SealedWriter:
    """Encrypts what is written to it into ``fh``. The last chunk is held back until ``close``
    (it must be marked final), so at most one chunk of plaintext is in memory."""

    def __init__(self, fh: BinaryIO, key: bytes, aad: bytes) -> None:
        self._fh, self._aead, self._aad = fh, AESGCM(key), aad
        self._buf = bytearray()
        self._index = 0
        fh.write(HEADER)

    def write(self, data: bytes) -> None:
        # keep the last chunk back: only close() knows which chunk is the last
        view, pos = memoryview(data), 0
        while len(view) - pos > CHUNK - len(self._buf):
            take = CHUNK - len(self._buf)
            self._buf += view[pos : pos + take]
            pos += take
            self._emit(bytes(self._buf), final=False)
            self._buf.clear()
        self._buf += view[pos:]

    def close(self) -> None:
        self._emit(bytes(self._buf), final=True)
        self._buf.clear()

    def _emit(self, chunk: bytes, *, final: bool) -> None:
        nonce = os.urandom(NONCE)
        ad = _chunk_ad(self._aad, self._index, final)
        self._fh.write(nonce + self._aead.encrypt(nonce, chunk, ad))
        self._index += 1


class SealedReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext. Reads decrypt only the chunks they touch
    (one is cached), so a seek to the middle of a long recording costs one chunk."""

    def __init__(self, path: Path, key: bytes, aad: bytes) -> None:
        super().__init__()
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._aead, self._aad = AESGCM(key), aad
        file_size = os.fstat(self._fh.fileno()).st_size
        if self._fh.read(len(HEADER)) != HEADER:
            self._fh.close()
            raise DecryptionFailed("stored audio is not in the encrypted format (wrong header)")
        self.size = plaintext_size(file_size)
        self._chunks = -(-(file_size - len(HEADER)) // (CHUNK + OVERHEAD))
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._pos >= self.size:
            return 0
        index, start = divmod(self._pos, CHUNK)
        chunk = self._chunk(index)
        n = min(len(buffer), len(chunk) - start)
        memoryview(buffer)[:n] = chunk[start : start + n]
        self._pos += n
        return n

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        self._fh.seek(len(HEADER) + index * (CHUNK + OVERHEAD))
        record = self._fh.read(CHUNK + OVERHEAD)
        final = index == self._chunks - 1
        try:
            plain = self._aead.decrypt(
                record[:NONCE], record[NONCE:], _chunk_ad(self._aad, index, final)
            )
        except InvalidTag:
            raise DecryptionFailed(
                f"stored audio chunk {index} could not be decrypted: wrong key, another "
                "recording's file, or altered bytes"
            ) from None
        self._cached = (index, plain)
        return plain

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """The plaintext bytes ``start`` to ``end`` (exclusive), a chunk at a time."""
        self.seek(start)
        while self._pos < end:
            data = self.read(min(CHUNK, end - self._pos))
            if not data:
                break
            yield data

    def close(self) -> None:
        self._fh.close()
        self._cached = None
        super().close()


def seal_file(src: Path, dst: Path, key: bytes, aad: bytes) -> None:
    """Encrypt the plain file ``src`` into ``dst`` (synced to disk before returning)."""
    with open(src, "rb") as fin, open(dst, "wb", buffering=CHUNK * 16) as fout:
        writer = SealedWriter(fout, key, aad)
        while block := fin.read(CHUNK * 16):
            writer.write(block)
        writer.close()
        fout.flush()
        os.fsync(fout.fileno())


def unseal_file(src: Path, dst: Path, key: bytes, aad: bytes) -> None:
    """Decrypt the sealed file ``src`` into the plain file ``dst`` (a downgrade's path)."""
    reader = SealedReader(src, key, aad)
    with reader, open(dst, "wb") as fout:
        while block := reader.read(CHUNK * 16):
            fout.write(block)
        fout.flush()
        os.fsync(fout.fileno())
