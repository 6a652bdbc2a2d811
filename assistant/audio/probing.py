"""Identify an uploaded recording and refuse anything the pipeline could not use.

An upload is checked here, once, so the pipeline only ever sees audio it can transcribe, and the
social worker learns at upload time (not an hour later) that the file was wrong. The checks run
cheapest first and every one is bounded:

1. The bytes were streamed to disk with a size cap and hashed on the way
   (``assistant.audio.intake``); nothing holds the whole file in memory.
2. ``probe`` identifies the content with PyAV (FFmpeg). File names, extensions and the client's
   content type are never consulted: the file is opened through a file object so FFmpeg cannot
   use the extension as a hint either. Only the containers listed in ``_DEMUXERS`` pass, and a
   file with a video track is refused even if it has sound (pictures of a family's home are not
   needed for a case note; cover art in MP3/M4A is not video and is allowed).
3. The duration comes from headers (the WAV data size, the container's duration, or a packet
   scan that reads no audio samples), so a three-hour file is refused without being decoded.
4. Truncation is decided per format first (``assistant.audio.truncation``), because FFmpeg alone
   does not notice all of it; every compressed format is then decoded, fully when short,
   otherwise only the first and last few seconds, and a decode error or an end well short of the
   declared duration means the file was cut. Limits of this: an MP3 without a Xing/Info/VBRI
   header or a raw ADTS AAC stream has only an estimated duration, so a cut at a frame boundary
   is indistinguishable from a shorter file.
5. ``has_speech`` (``assistant.audio.speech``) runs the Silero VAD on the decoded audio.

Error messages say what was wrong in plain words; they carry durations and sizes, never file
names or content, because they are returned to clients and may be logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av

from assistant.audio.sealed import AudioSource, SealedFile, audio_size, open_audio
from assistant.audio.truncation import TRUNCATED_HINT, check_structure, mp3_has_length_header
from assistant.errors import (
    EmptyRecording,
    NoAudioFile,
    RecordingTooLong,
    TruncatedRecording,
    UnsupportedMediaType,
)

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
_UNDECODABLE_END = (
    f"The recording is incomplete or damaged: it cannot be decoded to its end. {TRUNCATED_HINT}"
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


def probe(path: AudioSource, *, max_duration_s: float) -> AudioInfo:
    """Identify the recording and refuse anything the pipeline could not use.

    Raises NoAudioFile, EmptyRecording, UnsupportedMediaType, TruncatedRecording or
    RecordingTooLong (see the module docstring for the order and the costs).
    """
    if not (path.path if isinstance(path, SealedFile) else path).is_file():
        raise NoAudioFile("No audio file was found.")
    size = audio_size(path)
    if size == 0:
        raise EmptyRecording("The file is empty (0 bytes).")

    with open_audio(path) as fh:
        kind, wav_duration = check_structure(fh, size)

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
        estimated = fmt == "aac" or (fmt == "mp3" and not mp3_has_length_header(fh))
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
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> float | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _scan_duration(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    max_duration_s: float,
) -> float:
    """Duration from packet timestamps when no header states it (live-recorded WebM, for
    example). Reads packets without decoding them and stops as soon as the limit is passed."""
    tb = _time_base(stream)
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
            f"The recording is incomplete or damaged. {TRUNCATED_HINT}"
        ) from None
    if start is None:
        return 0.0
    return float((end - start) * tb)


def _time_base(stream: av.audio.stream.AudioStream) -> Fraction:
    # Demuxers always set one on an audio stream; PyAV's types leave it optional.
    if stream.time_base is None:
        raise UnsupportedMediaType(_UNSUPPORTED)
    return stream.time_base


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
        tb = _time_base(stream)
        origin = float(stream.start_time * tb) if stream.start_time else 0.0
        end, failed = _decode_until(container, stream, None if full else HEAD_DECODE_S)
        if end is None:
            raise UnsupportedMediaType("The file's audio could not be decoded.")
        if not full and not failed:
            target = max(0.0, duration - TAIL_DECODE_S) + origin
            try:
                container.seek(int(target / tb), stream=stream, backward=True)
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
            f"its header declares are present. {TRUNCATED_HINT}"
        )


def _decode_until(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    limit_s: float | None,
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


def _format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
