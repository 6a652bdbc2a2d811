"""Validate an uploaded recording before anything is queued.

An upload is checked here, once, so the pipeline only ever sees audio it can transcribe, and the
social worker learns at upload time (not an hour later) that the file was wrong. The checks run
cheapest first and every one is bounded:

1. ``save_upload`` / ``save_file_copy`` stream the bytes to disk with a size cap and hash them on
   the way; nothing holds the whole file in memory.
2. ``probe`` identifies the content with PyAV (FFmpeg). File names, extensions and the client's
   content type are never consulted: the file is opened through a file object so FFmpeg cannot
   use the extension as a hint either. Only the containers listed in ``_DEMUXERS`` pass, and a
   file with a video track is refused even if it has sound (pictures of a family's home are not
   needed for a case note; cover art in MP3/M4A is not video and is allowed).
3. The duration comes from headers (the WAV data size, the container's duration, or a packet
   scan that reads no audio samples), so a three-hour file is refused without being decoded.
4. Truncation is decided per format, because FFmpeg alone does not notice all of it:
   WAV compares the data size the header declares with the bytes present; MP4/M4A walks the
   top-level boxes (a cut ``mdat`` or a missing ``moov`` index means the recorder never
   finished); Ogg requires the last page to be whole and to carry the end-of-stream flag (its
   duration is read from the last page, so a cut file just looks shorter); WebM must end on an
   element boundary (browsers record WebM with no duration at all); every compressed
   format is then decoded, fully when short, otherwise only the first and last few seconds, and
   a decode error or an end well short of the declared duration means the file was cut.
   Limits of this: an MP3 without a Xing/Info/VBRI header or a raw ADTS AAC stream has only an
   estimated duration, so a cut at a frame boundary is indistinguishable from a shorter file.
5. ``has_speech`` runs the Silero VAD bundled with faster-whisper on the decoded audio.

Error messages say what was wrong in plain words; they carry durations and sizes, never file
names or content, because they are returned to clients and may be logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
from faster_whisper.audio import decode_audio
from faster_whisper.vad import VadOptions, get_speech_timestamps

from assistant.errors import (
    EmptyRecording,
    NoAudioFile,
    RecordingTooLarge,
    RecordingTooLong,
    TruncatedRecording,
    UnsupportedMediaType,
)

SAMPLE_RATE = 16_000
"""What ``load_pcm16k`` returns and what Whisper and the VAD expect."""

CHUNK_BYTES = 1 << 20
FULL_DECODE_MAX_S = 60.0
"""Recordings up to this long are decoded completely when checking for truncation (well under
a second of CPU); longer ones only at the start and the end."""
HEAD_DECODE_S = 2.0
TAIL_DECODE_S = 10.0
_END_TOLERANCE_S = 0.5
"""Decoded audio may end this much before the declared duration (encoder delay and padding
are a few tens of milliseconds; losing half a second is harmless)."""

SUPPORTED_FORMATS = "WAV, FLAC, MP3, Ogg/Opus, M4A/AAC or WebM"

# FFmpeg demuxer name -> the short name recorded in AudioInfo.format.
_DEMUXERS = {
    "wav": "wav",
    "flac": "flac",
    "mp3": "mp3",
    "ogg": "ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "webm",
    "aac": "aac",
}

_UNSUPPORTED = f"The file is not an audio recording in a supported format ({SUPPORTED_FORMATS})."
_TRUNCATED_HINT = "It may have been cut off while recording, copying or uploading."
_CUT_SHORT = (
    f"The recording is incomplete: the file ends partway through its data. {_TRUNCATED_HINT}"
)
_UNDECODABLE_END = (
    f"The recording is incomplete or damaged: it cannot be decoded to its end. {_TRUNCATED_HINT}"
)


@dataclass(frozen=True)
class AudioInfo:
    """What ``probe`` found. ``format`` is the container (wav, flac, mp3, ogg, mp4, webm,
    matroska, aac) and ``codec`` the audio codec (pcm_s16le, mp3, opus, aac ...)."""

    format: str
    codec: str
    duration_s: float
    sample_rate: int
    channels: int
    size_bytes: int
    sha256: str


# --- saving uploads -------------------------------------------------------------------------
class _CappedWriter:
    """Writes chunks to ``dest`` while counting and hashing; refuses to pass ``max_bytes``."""

    def __init__(self, dest: Path, max_bytes: int):
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.dest = dest
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._fh: BinaryIO | None = None
        # A cancelled upload abandons its worker thread mid-write; the lock makes discard()
        # wait for that write before closing and deleting the file.
        self._lock = threading.Lock()
        self._discarded = False

    def open(self) -> None:
        with self._lock:
            if not self._discarded:
                self._fh = open(self.dest, "wb")  # noqa: SIM115 - closed in finish()/discard()

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.max_bytes:
            raise RecordingTooLarge(
                f"The recording is larger than the upload limit of {_format_bytes(self.max_bytes)}."
            )
        with self._lock:
            if self._discarded or self._fh is None:
                return
            self.size += len(chunk)
            self._hash.update(chunk)
            self._fh.write(chunk)

    def finish(self) -> tuple[int, str]:
        if self._fh is not None:
            self._fh.close()
        if self.size == 0:
            raise EmptyRecording("The uploaded file is empty (0 bytes).")
        return self.size, self._hash.hexdigest()

    def discard(self) -> None:
        with self._lock:
            self._discarded = True
            if self._fh is not None:
                self._fh.close()
            self.dest.unlink(missing_ok=True)


async def save_upload(
    stream: AsyncIterator[bytes], dest: Path, *, max_bytes: int
) -> tuple[int, str]:
    """Stream an upload to ``dest`` and return ``(size_bytes, sha256)``.

    File writes run in a worker thread so a slow disk does not stall the event loop. On any
    failure, including a client that disconnects (cancellation), the partial file is removed:
    a half-written recording must never be picked up later.
    """
    writer = _CappedWriter(dest, max_bytes)
    try:
        await asyncio.to_thread(writer.open)
        async for chunk in stream:
            if chunk:
                await asyncio.to_thread(writer.write, chunk)
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def save_file_copy(src: Path, dest: Path, *, max_bytes: int) -> tuple[int, str]:
    """The synchronous twin of ``save_upload`` for the command line."""
    if not src.is_file():
        raise NoAudioFile("No audio file was found at the path given.")
    writer = _CappedWriter(dest, max_bytes)
    try:
        writer.open()
        with open(src, "rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                writer.write(chunk)
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


# --- probing --------------------------------------------------------------------------------
def probe(path: Path, *, max_duration_s: float) -> AudioInfo:
    """Identify the recording and refuse anything the pipeline could not use.

    Raises NoAudioFile, EmptyRecording, UnsupportedMediaType, TruncatedRecording or
    RecordingTooLong (see the module docstring for the order and the costs).
    """
    if not path.is_file():
        raise NoAudioFile("No audio file was found.")
    size = path.stat().st_size
    if size == 0:
        raise EmptyRecording("The file is empty (0 bytes).")

    with open(path, "rb") as fh:
        head = fh.read(4096)
        kind = _sniff(head)
        wav_duration: float | None = None
        if kind == "wav":
            wav_duration = _check_wav(fh, size)
        elif kind == "mp4":
            _check_mp4_boxes(fh, size)
        elif kind == "ogg":
            _check_ogg_end(fh, size)
        elif kind in ("webm", "matroska"):
            _check_ebml_end(fh, size)

        fh.seek(0)
        container = _open(fh, known_kind=kind is not None)
        with container:
            stream = _audio_stream(container)
            fmt = _DEMUXERS[container.format.name]
            if fmt == "webm" and kind == "matroska":
                fmt = "matroska"
            ctx = stream.codec_context
            codec = ctx.codec.canonical_name if ctx.codec else ctx.name
            sample_rate = int(ctx.sample_rate or 0)
            channels = int(ctx.layout.nb_channels) if ctx.layout else 0

            duration = (
                wav_duration if wav_duration is not None else _declared_duration(container, stream)
            )
            if duration is None:
                duration = _scan_duration(container, stream, max_duration_s)
            if duration <= 0:
                raise EmptyRecording("The recording contains no audio.")
            _check_duration(duration, max_duration_s)

        if sample_rate <= 0 or channels <= 0:
            raise UnsupportedMediaType(_UNSUPPORTED)
        # (Reads fh itself, so only once PyAV, which tracks the file position, is done with it.)
        estimated = fmt == "aac" or (fmt == "mp3" and not _mp3_has_length_header(fh))
        _check_decodes(fh, duration, compare_end=wav_duration is None and not estimated)

        fh.seek(0)
        digest = hashlib.file_digest(fh, "sha256").hexdigest()

    return AudioInfo(
        format=fmt,
        codec=codec,
        duration_s=round(duration, 3),
        sample_rate=sample_rate,
        channels=channels,
        size_bytes=size,
        sha256=digest,
    )


def _open(fh: BinaryIO, *, known_kind: bool) -> av.container.InputContainer:
    try:
        container = av.open(fh, mode="r", metadata_errors="ignore")
    except av.error.EOFError:
        if known_kind:
            raise EmptyRecording("The recording contains no audio.") from None
        raise UnsupportedMediaType(_UNSUPPORTED) from None
    except (av.error.FFmpegError, ValueError, OSError):
        raise UnsupportedMediaType(_UNSUPPORTED) from None
    if container.format.name not in _DEMUXERS:
        container.close()
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise UnsupportedMediaType(
                f"The file is an image, not an audio recording ({SUPPORTED_FORMATS})."
            )
        raise UnsupportedMediaType(_UNSUPPORTED)
    return container


def _audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream:
    # Cover art in MP3/M4A files appears as a video stream flagged "attached picture": allowed.
    video = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not container.streams.audio:
        if video:
            raise UnsupportedMediaType("The file is a video with no sound track.")
        raise UnsupportedMediaType(_UNSUPPORTED)
    if video:
        # Data minimisation: pictures of a family's home are not needed to write a case note.
        raise UnsupportedMediaType(
            "The file contains video; please upload the audio recording only."
        )
    return container.streams.audio[0]


def _declared_duration(
    container: av.container.InputContainer, stream: av.stream.Stream
) -> float | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _scan_duration(
    container: av.container.InputContainer, stream: av.stream.Stream, max_duration_s: float
) -> float:
    """Duration from packet timestamps when no header states it (live-recorded WebM, for
    example). Reads packets without decoding them and stops as soon as the limit is passed."""
    tb = stream.time_base
    start: int | None = None
    end = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = packet.pts if start is None else min(start, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
            if float((end - start) * tb) > max_duration_s:
                _check_duration(float((end - start) * tb), max_duration_s)
    except av.error.FFmpegError:
        raise TruncatedRecording(
            f"The recording is incomplete or damaged. {_TRUNCATED_HINT}"
        ) from None
    if start is None:
        return 0.0
    return float((end - start) * tb)


def _check_duration(duration: float, max_duration_s: float) -> None:
    if duration > max_duration_s:
        raise RecordingTooLong(
            f"The recording is {_format_duration(duration)} long; "
            f"the limit is {_format_duration(max_duration_s)}."
        )


def _check_decodes(fh: BinaryIO, duration: float, *, compare_end: bool) -> None:
    """Decode enough to prove the audio is readable to its end.

    Short recordings are decoded completely; longer ones only for the first HEAD_DECODE_S and,
    after a seek, the last TAIL_DECODE_S, so the cost does not grow with the length.
    """
    full = duration <= FULL_DECODE_MAX_S
    fh.seek(0)
    with av.open(fh, mode="r", metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        origin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        end, failed = _decode_until(container, stream, None if full else HEAD_DECODE_S)
        if end is None:
            raise UnsupportedMediaType("The file's audio could not be decoded.")
        if not full and not failed:
            target = max(0.0, duration - TAIL_DECODE_S) + origin
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.error.FFmpegError:
                end, failed = None, True
            else:
                end, failed = _decode_until(container, stream, None)
    if failed or end is None:
        raise TruncatedRecording(_UNDECODABLE_END)
    present = end - origin
    if compare_end and present < duration - _END_TOLERANCE_S:
        raise TruncatedRecording(
            f"The recording is incomplete: about {present:.0f} s of the {duration:.0f} s "
            f"its header declares are present. {_TRUNCATED_HINT}"
        )


def _decode_until(
    container: av.container.InputContainer, stream: av.stream.Stream, limit_s: float | None
) -> tuple[float | None, bool]:
    """Decode frames to the end (or until ``limit_s`` of audio).

    Returns where the last decoded frame ended (None if none decoded) and whether decoding
    stopped on an error."""
    end: float | None = None
    decoded = 0.0
    try:
        for frame in container.decode(stream):
            if not frame.samples or not frame.sample_rate:
                continue
            length = frame.samples / frame.sample_rate
            start = frame.time if frame.time is not None else (end or 0.0)
            end = start + length
            decoded += length
            if limit_s is not None and decoded >= limit_s:
                break
    except av.error.FFmpegError:
        return end, True
    return end, False


# --- format-specific structure checks --------------------------------------------------------
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
                    + _TRUNCATED_HINT
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
            raise TruncatedRecording(_CUT_SHORT)
        seen.add(box_type)
        pos += box_size
    if b"moov" not in seen and (b"mdat" in seen or pos >= size):
        raise TruncatedRecording(
            "The recording is incomplete: the index the recorder writes when it stops is missing. "
            + _TRUNCATED_HINT
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
        raise TruncatedRecording(f"The recording is incomplete or damaged. {_TRUNCATED_HINT}")
    last_flags = 0
    while pos < len(tail):
        page_len = _ogg_page_length(tail, pos)
        if page_len is None or pos + page_len > len(tail):
            raise TruncatedRecording(_CUT_SHORT)
        last_flags = tail[pos + 5]
        pos += page_len
        if pos < len(tail) and tail[pos : pos + 4] != b"OggS":
            break  # trailing junk after the stream; the last whole page decides
    if not last_flags & 0x04:
        raise TruncatedRecording(
            "The recording is incomplete: it stops before the end-of-stream marker. "
            + _TRUNCATED_HINT
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
            raise TruncatedRecording(_CUT_SHORT)
        element_id, body_size, header_len = element
        if body_size is None:
            if element_id != 0x1F43B675:
                return  # an unknown-size element we do not walk into: cannot judge
            pos += header_len  # walk into a live-recorded cluster's blocks
            continue
        if pos + header_len + body_size > len(tail):
            raise TruncatedRecording(_CUT_SHORT)
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


def _mp3_has_length_header(fh: BinaryIO) -> bool:
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


# --- decoding and speech ---------------------------------------------------------------------
def load_pcm16k(path: Path) -> np.ndarray:
    """Decode to mono float32 at 16 kHz, as Whisper and the VAD expect."""
    with open(path, "rb") as fh:
        audio = decode_audio(fh, sampling_rate=SAMPLE_RATE)
    return np.asarray(audio, dtype=np.float32)


def has_speech(audio: np.ndarray, *, min_speech_s: float = 0.5) -> bool:
    """True when the Silero VAD finds at least ``min_speech_s`` of speech in 16 kHz mono audio.

    Padding is switched off so that ``min_speech_s`` counts speech, not the margins the
    transcriber adds around it.
    """
    if audio.ndim != 1:
        raise ValueError("has_speech expects mono audio (a 1-D array)")
    if audio.size < SAMPLE_RATE * min_speech_s:
        return False
    options = VadOptions(min_speech_duration_ms=250, speech_pad_ms=0)
    spans = get_speech_timestamps(np.asarray(audio, dtype=np.float32), options, SAMPLE_RATE)
    speech_s = sum(span["end"] - span["start"] for span in spans) / SAMPLE_RATE
    return speech_s >= min_speech_s


# --- wording --------------------------------------------------------------------------------
def _format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _format_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} bytes"


__all__ = [
    "AudioInfo",
    "has_speech",
    "load_pcm16k",
    "probe",
    "save_file_copy",
    "save_upload",
]
