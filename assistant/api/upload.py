"""Stream a multipart upload straight to disk, enforcing the size limit as bytes arrive.

Starlette's ``request.form()`` spools the whole body before the handler can look at it, so a
three-hour WAV would be written out in full before being refused. Here the ``audio`` part goes
chunk by chunk to ``assistant.audio.RecordingWriter`` (counted, hashed, capped, and removed on
any failure), and the request is refused the moment it passes ``max_bytes``; other fields are
small text fields kept in memory (at most 4 KB each). Parsing and writing run in a worker
thread, so other requests are served while a large recording arrives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.audio import RecordingWriter, recording_too_large
from assistant.errors import (
    BadInput,
    CaseAssistError,
    EmptyRecording,
    NoAudioFile,
    RecordingTooLarge,
)

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

log = logging.getLogger(__name__)

FIELD_LIMIT = 4096
#: At start-up, upload files untouched for this long and not a stored recording's audio are
#: left over from a process that died mid-upload. (An upload in progress in another process
#: writes its ``.part`` file continuously, so it is younger than this.)
STALE_UPLOAD_S = 60
FILE_FIELD = "audio"


@dataclass
class ParsedUpload:
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)


async def receive_upload(
    request: Request, dest: Path, *, max_bytes: int, seal: tuple[bytes, bytes] | None = None
) -> ParsedUpload:
    """Parse the request body; the ``audio`` part lands at ``dest`` (encrypted with ``seal``,
    a data key and object id, see ``RecordingWriter``). Cleans up on any error."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise NoAudioFile("Send the recording as multipart/form-data with a field named 'audio'.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise recording_too_large(max_bytes)

    form = _Form(dest, max_bytes, seal)
    parser = MultipartParser(params[b"boundary"], callbacks=form.callbacks())
    try:
        try:
            async for chunk in request.stream():
                # The parser's callbacks write the audio part: off the event loop.
                await run_in_threadpool(parser.write, chunk)
                form.raise_error()
            parser.finalize()
        except MultipartParseError as exc:
            raise BadInput("The multipart body is malformed.", code="malformed_multipart") from exc
        form.raise_error()
        if form.writer is None:
            raise NoAudioFile(
                "No file was sent: attach the recording in a field named 'audio'.",
                fields=form.fields,
            )
        try:
            size, sha256 = await run_in_threadpool(form.writer.finish)
        except EmptyRecording:
            if not form.file_name:
                # a browser's file input left empty still sends the part, with an empty
                # filename and no bytes: no file was chosen, rather than an empty recording
                raise NoAudioFile(
                    "No file was chosen: attach the recording as 'audio'.", fields=form.fields
                ) from None
            raise
    except BaseException:
        if form.writer is not None:
            form.writer.discard()
        raise
    return ParsedUpload(path=dest, size=size, sha256=sha256, fields=form.fields)


def remove_stale_uploads(
    uploads_dir: Path, stored: Iterable[str], *, older_than_s: float = STALE_UPLOAD_S
) -> int:
    """Delete what a killed upload left under ``uploads_dir``: ``.*.part`` files, and audio
    renamed into place whose recording was never committed. Returns how many were removed."""
    keep = {Path(p).resolve() for p in stored}
    cutoff = time.time() - older_than_s
    removed = 0
    if not uploads_dir.is_dir():
        return 0
    for path in uploads_dir.iterdir():
        try:
            if not path.is_file() or path.is_symlink() or path.resolve() in keep:
                continue
            if path.stat().st_mtime > cutoff:
                continue
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    if removed:
        log.warning("removed %d stale upload file(s) from %s", removed, uploads_dir)
    return removed


class _Form:
    """The multipart parser's callbacks: the ``audio`` part goes to a RecordingWriter, other
    fields into ``fields``. An error is kept in ``error`` and raised between chunks."""

    def __init__(self, dest: Path, max_bytes: int, seal: tuple[bytes, bytes] | None) -> None:
        self.dest = dest
        self.max_bytes = max_bytes
        self.seal = seal
        self.writer: RecordingWriter | None = None
        self.file_name: str | None = None  # the audio part's filename, as sent
        self.fields: dict[str, str] = {}
        self.error: CaseAssistError | None = None
        self._name = ""
        self._is_file = False
        self._buf = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def on_part_begin(self) -> None:
        self._name, self._is_file, self._buf, self._headers = "", False, bytearray(), {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, opts = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = opts.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = self._name == FILE_FIELD
        if self._is_file:
            if self.writer is not None:
                self.error = BadInput(
                    "Send exactly one 'audio' file per request.", code="multiple_files"
                )
                return
            filename = opts.get(b"filename")
            self.file_name = None if filename is None else filename.decode("utf-8", "replace")
            self.writer = RecordingWriter(self.dest, max_bytes=self.max_bytes, seal=self.seal)
            self.writer.open()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error:
            return
        chunk = data[start:end]
        if not self._is_file:
            self._buf += chunk
            if len(self._buf) > FIELD_LIMIT:
                self.error = BadInput(
                    f"Form field '{self._name}' is too long.", code="field_too_long"
                )
        elif self.writer is not None:
            try:
                self.writer.write(chunk)
            except RecordingTooLarge as exc:
                self.error = exc

    def on_part_end(self) -> None:
        if not self._is_file and self._name and not self.error:
            self.fields[self._name] = self._buf.decode("utf-8", "replace").strip()
