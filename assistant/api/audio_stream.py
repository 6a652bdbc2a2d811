"""Play an encrypted recording: decrypt on the fly, honouring an HTTP ``Range``.

The file is decrypted a 64 KiB chunk at a time as the response is sent (``audio.sealed``), so
a seek to the middle of a long visit decrypts one or two chunks, not the file, and no
plaintext is written anywhere. One range per request (what ``<audio>`` asks for); a request
for several gets the whole file (HTTP lets a server ignore ``Range``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import Response
from fastapi.responses import StreamingResponse

from assistant.audio import SealedFile
from assistant.audio.sealed import CHUNK

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a single ``bytes=`` range, None for the whole file,
    ``ValueError`` if it lies outside the file (a 416)."""
    match = _RANGE.match(header.replace(" ", ""))
    if not header or match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        n = int(last)
        if n == 0:
            raise ValueError("empty suffix range")
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise ValueError("range outside the file")
    return start, end


def stream_audio(source: SealedFile, range_header: str, media_type: str) -> Response:
    reader = source.open()
    size = reader.size
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": "inline"}
    try:
        wanted = parse_range(range_header, size)
    except ValueError:
        reader.close()
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if wanted is not None else (0, size - 1)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)

    try:  # the first chunk now: a wrong key or altered file is a clean error, not a cut stream
        reader.seek(start)
        first = reader.read(min(CHUNK - start % CHUNK, end + 1 - start)) if size else b""
    except BaseException:
        reader.close()
        raise

    def body() -> Iterator[bytes]:
        # a sync generator: Starlette runs each step in a thread, off the event loop
        with reader:
            yield first
            yield from reader.iter_range(start + len(first), end + 1)

    return StreamingResponse(
        body(), status_code=206 if wanted else 200, headers=headers, media_type=media_type
    )
