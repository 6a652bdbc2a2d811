"""Stream a multipart upload straight to disk, enforcing the size limit as bytes arrive.

Starlette's ``request.form()`` spools the whole body before the handler can look at it, so a
three-hour WAV would be written out in full before being refused. Here the ``audio`` part is
written chunk by chunk to a temporary file beside its final place, counted and hashed on the
way, and the request is refused the moment it passes ``max_bytes``; other fields are small
text fields kept in memory (at most 4 KB each).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from assistant.errors import BadInput, EmptyRecording, NoAudioFile, RecordingTooLarge

FIELD_LIMIT = 4096
FILE_FIELD = "audio"


@dataclass
class ParsedUpload:
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)


async def receive_upload(request: Request, dest: Path, *, max_bytes: int) -> ParsedUpload:
    """Parse the request body; the ``audio`` part lands at ``dest``. Cleans up on any error."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise NoAudioFile("Send the recording as multipart/form-data with a field named 'audio'.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise RecordingTooLarge(_too_large(max_bytes))

    result = ParsedUpload()
    state: dict = {
        "name": None,
        "is_file": False,
        "buf": bytearray(),
        "fh": None,
        "hash": hashlib.sha256(),
        "headers": {},
        "hf": b"",
        "hv": b"",
        "error": None,
    }

    def on_part_begin() -> None:
        state.update(name=None, is_file=False, buf=bytearray(), headers={})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hf"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hv"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["hf"].lower()] = state["hv"]
        state["hf"], state["hv"] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        state["is_file"] = name == FILE_FIELD
        if state["is_file"]:
            if state["fh"] is not None:
                state["error"] = BadInput(
                    "Send exactly one 'audio' file per request.", code="multiple_files"
                )
                return
            dest.parent.mkdir(parents=True, exist_ok=True)
            state["fh"] = dest.open("wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["error"]:
            return
        chunk = data[start:end]
        if state["is_file"]:
            result.size += len(chunk)
            if result.size > max_bytes:
                state["error"] = RecordingTooLarge(_too_large(max_bytes))
                return
            state["hash"].update(chunk)
            state["fh"].write(chunk)
        else:
            state["buf"] += chunk
            if len(state["buf"]) > FIELD_LIMIT:
                state["error"] = BadInput(
                    f"Form field '{state['name']}' is too long.", code="field_too_long"
                )

    def on_part_end() -> None:
        if not state["is_file"] and state["name"] and not state["error"]:
            result.fields[state["name"]] = state["buf"].decode("utf-8", "replace").strip()

    parser = MultipartParser(
        params[b"boundary"],
        callbacks={
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if state["error"]:
                    raise state["error"]
            parser.finalize()
        except MultipartParseError as exc:
            raise BadInput("The multipart body is malformed.", code="malformed_multipart") from exc
        if state["error"]:
            raise state["error"]
        if state["fh"] is None:
            raise NoAudioFile("No file was sent: attach the recording in a field named 'audio'.")
        state["fh"].flush()
        os.fsync(state["fh"].fileno())
        if result.size == 0:
            raise EmptyRecording("The uploaded recording is empty (0 bytes).")
    except BaseException:
        if state["fh"] is not None:
            state["fh"].close()
        dest.unlink(missing_ok=True)
        raise
    state["fh"].close()
    result.path = dest
    result.sha256 = state["hash"].hexdigest()
    return result


def _too_large(max_bytes: int) -> str:
    return f"The recording is larger than the {max_bytes // (1024 * 1024)} MB limit."
