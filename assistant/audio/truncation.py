"""Per-format checks that a recording was not cut off, read from its structure alone.

FFmpeg does not notice every truncation, so ``probe`` (``assistant.audio.probing``) first runs
the check for the container the magic bytes name:

* WAV compares the data size the header declares with the bytes present;
* MP4/M4A walks the top-level boxes (a cut ``mdat`` or a missing ``moov`` index means the
  recorder never finished);
* Ogg requires the last page to be whole and to carry the end-of-stream flag (its duration is
  read from the last page, so a cut file just looks shorter);
* WebM/Matroska must end on an element boundary (browsers record WebM with no duration at all).

``mp3_has_length_header`` tells ``probe`` whether an MP3's duration is counted or only
estimated from the bit rate (then a cut at a frame boundary cannot be told from a shorter file).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from assistant.errors import EmptyRecording, TruncatedRecording

TRUNCATED_HINT = "It may have been cut off while recording, copying or uploading."
CUT_SHORT = f"The recording is incomplete: the file ends partway through its data. {TRUNCATED_HINT}"


def check_structure(fh: BinaryIO, size: int) -> tuple[str | None, float | None]:
    """Name the container from its magic bytes and run its end check.

    Returns the container kind (None when not recognised; then FFmpeg decides) and, for WAV,
    the duration its header declares. Raises TruncatedRecording or EmptyRecording.
    """
    fh.seek(0)
    kind = _sniff(fh.read(4096))
    if kind == "wav":
        return kind, _check_wav(fh, size)
    if kind == "mp4":
        _check_mp4_boxes(fh, size)
    elif kind == "ogg":
        _check_ogg_end(fh, size)
    elif kind in ("webm", "matroska"):
        _check_ebml_end(fh, size)
    return kind, None


def _sniff(head: bytes) -> str | None:
    """Name the container from its magic bytes; used only to pick structural checks."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:64] else "matroska"
    if head[:4] == b"fLaC":
        return "flac"
    return None


def _check_wav(fh: BinaryIO, size: int) -> float | None:
    """Compare the data size the WAV header declares with the bytes actually present.

    Returns the header's duration, or None when the header is too unusual to judge (then the
    generic checks apply). A data size of 0 or 0xFFFFFFFF is what streaming writers leave
    behind; FFmpeg reads such files to the end, and so do we.
    """
    fh.seek(12)
    byte_rate = block_align = 0
    ds64_data_size: int | None = None
    while True:
        header = fh.read(8)
        if len(header) < 8:
            if byte_rate:
                raise EmptyRecording("The recording contains no audio data.")
            return None
        chunk_id, chunk_size = struct.unpack("<4sI", header)
        body_at = fh.tell()
        if chunk_id == b"ds64" and chunk_size >= 24:
            ds64_data_size = struct.unpack("<QQQ", fh.read(24))[1]
        elif chunk_id == b"fmt " and chunk_size >= 16:
            _fmt, _channels, _rate, byte_rate, block_align = struct.unpack("<HHIIH", fh.read(14))
        elif chunk_id == b"data":
            if not byte_rate:
                return None
            available = size - body_at
            declared = chunk_size
            if chunk_size == 0xFFFFFFFF and ds64_data_size is not None:
                declared = ds64_data_size
            elif chunk_size in (0, 0xFFFFFFFF):
                declared = available
            if declared == 0:
                raise EmptyRecording("The recording contains no audio data.")
            if available + max(block_align, 1) <= declared:
                raise TruncatedRecording(
                    f"The recording is incomplete: about {available / byte_rate:.0f} s of the "
                    f"{declared / byte_rate:.0f} s its header declares are present. "
                    + TRUNCATED_HINT
                )
            return declared / byte_rate
        fh.seek(body_at + chunk_size + (chunk_size & 1))
        if fh.tell() >= size:
            if byte_rate:
                raise EmptyRecording("The recording contains no audio data.")
            return None


def _check_mp4_boxes(fh: BinaryIO, size: int) -> None:
    """Walk the top-level MP4 boxes: a box running past the end of the file, or no ``moov``
    (the index a recorder writes last), means the recording was never finished or was cut."""
    pos = 0
    seen: set[bytes] = set()
    for _ in range(10_000):
        if pos >= size:
            break
        fh.seek(pos)
        header = fh.read(16)
        if len(header) < 8:
            break
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if not all(0x20 <= b < 0x7F for b in box_type):
            break  # trailing padding or junk; leave it to FFmpeg
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            break
        if pos + box_size > size:
            raise TruncatedRecording(CUT_SHORT)
        seen.add(box_type)
        pos += box_size
    if b"moov" not in seen and (b"mdat" in seen or pos >= size):
        raise TruncatedRecording(
            "The recording is incomplete: the index the recorder writes when it stops is missing. "
            + TRUNCATED_HINT
        )


_OGG_TAIL = 65_536 + 65_307  # enough to hold at least one whole page (at most 65,307 bytes)


def _check_ogg_end(fh: BinaryIO, size: int) -> None:
    """The last Ogg page must be whole and flagged end-of-stream.

    Ogg has no length in its header (FFmpeg reads the duration from the last page), so a cut
    file looks like a shorter one; the missing end-of-stream page is what gives it away.
    """
    start = max(0, size - _OGG_TAIL)
    fh.seek(start)
    tail = fh.read()
    pos = tail.find(b"OggS")
    while pos != -1 and not _is_ogg_page(tail, pos):
        pos = tail.find(b"OggS", pos + 1)
    if pos == -1:
        raise TruncatedRecording(f"The recording is incomplete or damaged. {TRUNCATED_HINT}")
    last_flags = 0
    while pos < len(tail):
        page_len = _ogg_page_length(tail, pos)
        if page_len is None or pos + page_len > len(tail):
            raise TruncatedRecording(CUT_SHORT)
        last_flags = tail[pos + 5]
        pos += page_len
        if pos < len(tail) and tail[pos : pos + 4] != b"OggS":
            break  # trailing junk after the stream; the last whole page decides
    if not last_flags & 0x04:
        raise TruncatedRecording(
            "The recording is incomplete: it stops before the end-of-stream marker. "
            + TRUNCATED_HINT
        )


def _ogg_page_length(buf: bytes, pos: int) -> int | None:
    if pos + 27 > len(buf) or buf[pos : pos + 4] != b"OggS" or buf[pos + 4] != 0:
        return None
    n_segments = buf[pos + 26]
    if pos + 27 + n_segments > len(buf):
        return None
    return 27 + n_segments + sum(buf[pos + 27 : pos + 27 + n_segments])


def _is_ogg_page(buf: bytes, pos: int) -> bool:
    """True when a whole page starts at ``pos`` and its CRC matches (so the capture pattern was
    not just the bytes "OggS" inside audio data)."""
    length = _ogg_page_length(buf, pos)
    if length is None or pos + length > len(buf):
        return False
    page = bytearray(buf[pos : pos + length])
    stored = struct.unpack("<I", page[22:26])[0]
    page[22:26] = b"\0\0\0\0"
    return _ogg_crc(bytes(page)) == stored


def _make_ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_CRC_TABLE = _make_ogg_crc_table()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    table = _OGG_CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


_EBML_TAIL = 2 << 20
_MKV_CLUSTER = b"\x1f\x43\xb6\x75"
_MKV_TIMESTAMP = 0xE7


def _check_ebml_end(fh: BinaryIO, size: int) -> None:
    """A WebM/Matroska file must end on an element boundary.

    Browsers' MediaRecorder writes WebM with no duration and clusters of unknown size, so a cut
    file decodes cleanly and just looks shorter. Walking the elements from the last cluster to
    the end of the file shows whether the final block is whole.
    """
    start = max(0, size - _EBML_TAIL)
    fh.seek(start)
    tail = fh.read()
    pos = tail.rfind(_MKV_CLUSTER)
    while pos != -1:
        # A real cluster's first child is its timestamp; four matching bytes inside audio are not.
        header = _ebml_element(tail, pos)
        if header is not None:
            child = _ebml_element(tail, pos + header[2])
            if child is not None and child[0] == _MKV_TIMESTAMP:
                break
        pos = tail.rfind(_MKV_CLUSTER, 0, pos)
    if pos == -1:
        return  # no cluster in reach: leave it to the decoding checks
    while pos < len(tail):
        element = _ebml_element(tail, pos)
        if element is None:
            raise TruncatedRecording(CUT_SHORT)
        element_id, body_size, header_len = element
        if body_size is None:
            if element_id != 0x1F43B675:
                return  # an unknown-size element we do not walk into: cannot judge
            pos += header_len  # walk into a live-recorded cluster's blocks
            continue
        if pos + header_len + body_size > len(tail):
            raise TruncatedRecording(CUT_SHORT)
        pos += header_len + body_size


def _ebml_element(buf: bytes, pos: int) -> tuple[int, int | None, int] | None:
    """Parse the EBML element header at ``pos``: (id, body size or None, header length)."""
    if pos >= len(buf):
        return None
    id_len = _vint_length(buf[pos])
    if id_len is None or id_len > 4 or pos + id_len >= len(buf):
        return None
    element_id = int.from_bytes(buf[pos : pos + id_len], "big")
    size_at = pos + id_len
    size_len = _vint_length(buf[size_at])
    if size_len is None or size_at + size_len > len(buf):
        return None
    raw = int.from_bytes(buf[size_at : size_at + size_len], "big")
    value = raw & ((1 << (7 * size_len)) - 1)
    unknown = value == (1 << (7 * size_len)) - 1
    return element_id, None if unknown else value, id_len + size_len


def _vint_length(first: int) -> int | None:
    for length in range(1, 9):
        if first & (0x80 >> (length - 1)):
            return length
    return None


def mp3_has_length_header(fh: BinaryIO) -> bool:
    """True when the first MP3 frame carries a Xing/Info/VBRI header, i.e. the duration is
    counted rather than estimated from the bit rate."""
    fh.seek(0)
    head = fh.read(10)
    offset = 0
    if head[:3] == b"ID3" and len(head) == 10:
        s = head[6:10]
        offset = 10 + (
            (s[0] & 0x7F) << 21 | (s[1] & 0x7F) << 14 | (s[2] & 0x7F) << 7 | (s[3] & 0x7F)
        )
    fh.seek(offset)
    window = fh.read(4096)
    sync = window.find(b"\xff")
    window = window[sync : sync + 200] if sync != -1 else b""
    return any(tag in window for tag in (b"Xing", b"Info", b"VBRI"))
