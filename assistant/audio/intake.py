"""Save an uploaded recording: one streaming writer with a size cap.

The bytes are counted and hashed as they arrive and written to ``<dest>.part``, which becomes
``dest`` only once it is complete and synced to disk. ``discard`` removes the partial file on
any failure, including a client that disconnects, so a half-written recording is never picked
up later. Nothing holds the whole file in memory.

The writer is synchronous; an async caller runs it in a worker thread (``assistant.api.upload``
does), so a slow disk or a large upload does not stall the event loop.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import BinaryIO

from assistant.audio.sealed import SealedWriter
from assistant.errors import EmptyRecording, RecordingTooLarge


class RecordingWriter:
    """Writes chunks to ``<dest>.part`` while counting and hashing; refuses to pass
    ``max_bytes``. Call ``open``, ``write`` for each chunk, then ``finish``; ``discard`` if
    anything fails. With ``seal=(data_key, object_id)`` the bytes are encrypted as they arrive
    (``assistant.audio.sealed``), so not even the ``.part`` file holds audio in clear; size and
    sha256 are still of the audio as sent."""

    def __init__(
        self, dest: Path, *, max_bytes: int, seal: tuple[bytes, bytes] | None = None
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._fh: BinaryIO | None = None
        self._seal = seal
        self._sealer: SealedWriter | None = None
        # A cancelled upload may leave a worker thread mid-write; the lock makes discard()
        # wait for that write, and the flag stops the thread from writing (or opening) after.
        self._lock = threading.Lock()
        self._discarded = False
        self._finished = False

    def open(self) -> None:
        with self._lock:
            if not self._discarded:
                self.dest.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.part, "wb")  # noqa: SIM115 - closed in finish()/discard()
                if self._seal is not None:
                    self._sealer = SealedWriter(self._fh, *self._seal)

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``, or raise RecordingTooLarge before a byte past the cap is written."""
        if self.size + len(chunk) > self.max_bytes:
            raise recording_too_large(self.max_bytes)
        with self._lock:
            if self._discarded or self._fh is None:
                return
            self.size += len(chunk)
            self._hash.update(chunk)
            (self._sealer or self._fh).write(chunk)

    def finish(self) -> tuple[int, str]:
        """Sync and close the file and move it to ``dest``; return ``(size_bytes, sha256)``."""
        with self._lock:
            if self._discarded or self._fh is None:
                raise RuntimeError("RecordingWriter.finish() after discard() or before open()")
            if self._sealer is not None:
                self._sealer.close()
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            if self.size == 0:
                raise EmptyRecording("The uploaded recording is empty (0 bytes).")
            self.part.replace(self.dest)
            self._finished = True
        return self.size, self._hash.hexdigest()

    def discard(self) -> None:
        """Remove what this writer wrote, finished or not; safe at any point, and more than once
        (a cancelled request can reach it while ``finish`` is still running in its thread)."""
        with self._lock:
            self._discarded = True
            if self._fh is not None:
                self._fh.close()
            self.part.unlink(missing_ok=True)
            if self._finished:
                self.dest.unlink(missing_ok=True)


def recording_too_large(max_bytes: int) -> RecordingTooLarge:
    """The error for an upload over ``max_bytes``, whether counted or declared up front."""
    return RecordingTooLarge(
        f"The recording is larger than the upload limit of {_format_bytes(max_bytes)}."
    )


def _format_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} bytes"
