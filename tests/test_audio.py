"""Upload validation, as a specification: what is refused, with which error, and what passes.

Every sample is generated at test time (numpy, ffmpeg, espeak-ng); no audio is committed. The
files are saved under names that carry no hint of their format, because ``probe`` must decide
from content alone, and under a name that looks personal, so the tests can check that no error
message repeats it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import shutil
import struct
import subprocess
import threading
import time
import wave
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest
from starlette.requests import Request

import assistant.audio.probing as audio_module
from assistant.api.upload import receive_upload
from assistant.audio import AudioInfo, RecordingWriter, has_speech, load_pcm16k, probe
from assistant.errors import (
    CaseAssistError,
    EmptyRecording,
    NoAudioFile,
    RecordingTooLarge,
    RecordingTooLong,
    TruncatedRecording,
    UnsupportedMediaType,
)
from tests.speech import espeak_available, real_speech_clips, synthesize

SR = 16_000
MAX_S = 2 * 60 * 60.0  # the service's default limit is of this order
PERSONAL = "whitlock-family-visit"  # appears in file names and text content; never in messages

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng/sox not installed")


# --- sample makers ----------------------------------------------------------------------------
def _tone(seconds: float, rate: int = SR, channels: int = 1) -> np.ndarray:
    """A warbling tone, float in [-1, 1]: audible, deterministic and cheap."""
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.3 * np.sin(2 * np.pi * (300 + 80 * np.sin(2 * np.pi * 0.5 * t)) * t)
    return np.repeat(signal[:, None], channels, axis=1)


def _write_wav(path: Path, samples: np.ndarray, rate: int = SR) -> Path:
    samples = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def _encode(src: Path, dest: Path, *options: str) -> Path:
    _ffmpeg("-i", str(src), *options, str(dest))
    return dest


def _wav_header(*, data_bytes: int, rate: int = SR, channels: int = 1, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    pixels = b"".join(b"\x00" + b"\x10\x80\xf0" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def _half(src: Path, dest: Path) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


class Samples:
    """Builds each named sample once per session, on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._built: dict[str, Path] = {}
        self._numbers = itertools.count()

    def __getitem__(self, name: str) -> Path:
        if name not in self._built:
            dest = self.root / f"{PERSONAL}-{next(self._numbers)}.upload"
            self._built[name] = _MAKERS[name](self, dest)
        return self._built[name]


def _ogg_without_eos(s: Samples, dest: Path) -> Path:
    """Cut an Ogg file exactly at a page boundary before its last page: every page is whole,
    but the end-of-stream page is gone."""
    data = s["ogg-opus"].read_bytes()
    dest.write_bytes(data[: data.rfind(b"OggS")])
    return dest


def _mp4_without_moov(s: Samples, dest: Path) -> Path:
    """What a phone leaves when the recorder is killed: audio data but no index."""
    data = s["m4a"].read_bytes()
    dest.write_bytes(data[: data.rfind(b"moov") - 4])
    return dest


def _three_hour_wav(s: Samples, dest: Path) -> Path:
    """A real 3-hour WAV (345 MB) as a sparse file: costs no disk and no time to make."""
    data_bytes = 3 * 60 * 60 * SR * 2
    with open(dest, "wb") as fh:
        fh.write(_wav_header(data_bytes=data_bytes))
        fh.truncate(44 + data_bytes)
    return dest


def _three_hour_mp3(s: Samples, dest: Path) -> Path:
    """A minute of 8 kbit/s CBR MP3 written 180 times: a valid 3-hour stream (10 MB)."""
    minute = s.root / "minute.mp3"
    _ffmpeg(
        "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "60", "-c:a", "libmp3lame",
        "-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", str(minute),
    )  # fmt: skip
    block = minute.read_bytes()
    with open(dest, "wb") as fh:
        for _ in range(180):
            fh.write(block)
    return dest


def _video(s: Samples, dest: Path, *, with_audio: bool) -> Path:
    args = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=2"]
    if with_audio:
        args += ["-i", str(s["wav"]), "-shortest", "-c:a", "aac"]
    _ffmpeg(*args, "-c:v", "mpeg4", "-f", "mp4", str(dest))
    return dest


def _live_webm(s: Samples, dest: Path) -> Path:
    """Written to a pipe, as a browser's MediaRecorder writes: no duration, no cues, clusters
    of unknown size."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(s["wav"]),
         "-c:a", "libopus", "-f", "webm", "pipe:1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    dest.write_bytes(result.stdout)
    return dest


def _mp3_with_cover_art(s: Samples, dest: Path) -> Path:
    _ffmpeg(
        "-i", str(s["wav"]), "-i", str(s["jpeg"]), "-map", "0", "-map", "1",
        "-c:a", "libmp3lame", "-c:v", "copy", "-id3v2_version", "3",
        "-disposition:v", "attached_pic", "-f", "mp3", str(dest),
    )  # fmt: skip
    return dest


def _jpeg(s: Samples, dest: Path) -> Path:
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", "-f", "mjpeg", str(dest))
    return dest


def _encoded(source: str, *options: str) -> Callable[[Samples, Path], Path]:
    return lambda s, dest: _encode(s[source], dest, *options)


def _bytes(make: Callable[[], bytes]) -> Callable[[Samples, Path], Path]:
    def maker(s: Samples, dest: Path) -> Path:
        dest.write_bytes(make())
        return dest

    return maker


def _halved(source: str) -> Callable[[Samples, Path], Path]:
    return lambda s, dest: _half(s[source], dest)


_MAKERS: dict[str, Callable[[Samples, Path], Path]] = {
    # good
    "wav": lambda s, d: _write_wav(d, _tone(5.0)),
    "wav-3s": lambda s, d: _write_wav(d, _tone(3.0)),
    "wav-44k-stereo-24bit": _encoded(
        "wav", "-ar", "44100", "-ac", "2", "-c:a", "pcm_s24le", "-f", "wav"
    ),  # fmt: skip
    "flac": _encoded("wav", "-c:a", "flac", "-f", "flac"),
    "mp3": _encoded("wav", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"),
    "mp3-3s": _encoded("wav-3s", "-c:a", "libmp3lame", "-f", "mp3"),
    "mp3-cover-art": _mp3_with_cover_art,
    "ogg-opus": _encoded("wav", "-c:a", "libopus", "-f", "ogg"),
    "ogg-opus-3s": _encoded("wav-3s", "-c:a", "libopus", "-f", "ogg"),
    "ogg-vorbis": _encoded("wav", "-c:a", "libvorbis", "-f", "ogg"),
    "m4a": _encoded("wav", "-c:a", "aac", "-f", "ipod"),
    "m4a-faststart": _encoded("wav", "-c:a", "aac", "-movflags", "+faststart", "-f", "ipod"),
    "aac-adts": _encoded("wav", "-c:a", "aac", "-f", "adts"),
    "webm": _encoded("wav", "-c:a", "libopus", "-f", "webm"),
    "webm-live": _live_webm,
    # not audio
    "text": _bytes(lambda: f"Visit notes for the {PERSONAL}. Nothing to hear.\n".encode()),
    "png": _bytes(_png),
    "jpeg": _jpeg,
    "random-bytes": _bytes(lambda: random.Random(0).randbytes(64 * 1024)),
    "video-no-audio": lambda s, d: _video(s, d, with_audio=False),
    "video-with-audio": lambda s, d: _video(s, d, with_audio=True),
    # empty
    "zero-bytes": _bytes(lambda: b""),
    "wav-header-only": _bytes(lambda: _wav_header(data_bytes=0)),
    # truncated
    "wav-half": _halved("wav"),
    "wav-header-claims-more": _bytes(lambda: _wav_header(data_bytes=SR * 2 * 60) + bytes(SR * 2)),
    "flac-half": _halved("flac"),
    "mp3-half": _halved("mp3"),
    "ogg-opus-half": _halved("ogg-opus"),
    "ogg-vorbis-half": _halved("ogg-vorbis"),
    "ogg-no-end-of-stream": _ogg_without_eos,
    "m4a-half": _halved("m4a"),
    "m4a-faststart-half": _halved("m4a-faststart"),
    "m4a-no-index": _mp4_without_moov,
    "aac-adts-half": _halved("aac-adts"),
    "webm-half": _halved("webm"),
    "webm-live-half": _halved("webm-live"),
    # long
    "wav-3h-sparse": _three_hour_wav,
    "mp3-3h": _three_hour_mp3,
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(tmp_path_factory.mktemp("audio-samples"))


def _assert_plain_message(error: CaseAssistError) -> None:
    """Messages go to clients and logs: no file name, no file content."""
    assert error.message
    assert PERSONAL not in error.message.lower()
    assert "whitlock" not in error.message.lower()
    assert ".upload" not in error.message


# --- what passes ------------------------------------------------------------------------------
GOOD = [
    # (sample, format, codec, sample_rate, channels)
    ("wav", "wav", "pcm_s16le", 16_000, 1),
    ("wav-44k-stereo-24bit", "wav", "pcm_s24le", 44_100, 2),
    ("flac", "flac", "flac", 16_000, 1),
    ("mp3", "mp3", "mp3", 16_000, 1),
    ("mp3-cover-art", "mp3", "mp3", 16_000, 1),
    ("ogg-opus", "ogg", "opus", 48_000, 1),
    ("ogg-vorbis", "ogg", "vorbis", 16_000, 1),
    ("m4a", "mp4", "aac", 16_000, 1),
    ("m4a-faststart", "mp4", "aac", 16_000, 1),
    ("aac-adts", "aac", "aac", 16_000, 1),
    ("webm", "webm", "opus", 48_000, 1),
    ("webm-live", "webm", "opus", 48_000, 1),
]


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "fmt", "codec", "rate", "channels"), GOOD, ids=[g[0] for g in GOOD]
)
def test_accepted_formats_probe_correctly(
    samples: Samples, name: str, fmt: str, codec: str, rate: int, channels: int
) -> None:
    path = samples[name]
    info = probe(path, max_duration_s=MAX_S)
    assert isinstance(info, AudioInfo)
    assert (info.format, info.codec, info.sample_rate, info.channels) == (
        fmt,
        codec,
        rate,
        channels,
    )
    # ADTS AAC has no length field: its duration is an estimate from the bit rate.
    assert info.duration_s == pytest.approx(5.0, abs=0.5 if fmt == "aac" else 0.1)
    assert info.size_bytes == path.stat().st_size
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@needs_ffmpeg
def test_the_extension_is_not_trusted(samples: Samples, tmp_path: Path) -> None:
    disguised = tmp_path / "recording.wav"
    shutil.copyfile(samples["mp3"], disguised)
    assert probe(disguised, max_duration_s=MAX_S).format == "mp3"


# --- what is refused --------------------------------------------------------------------------
BAD = [
    # (case, sample, error)
    ("text file renamed .wav", "text", UnsupportedMediaType),
    ("PNG image", "png", UnsupportedMediaType),
    ("JPEG image", "jpeg", UnsupportedMediaType),
    ("random bytes renamed .wav", "random-bytes", UnsupportedMediaType),
    ("video with no audio track", "video-no-audio", UnsupportedMediaType),
    ("video with an audio track", "video-with-audio", UnsupportedMediaType),
    ("empty 0-byte file", "zero-bytes", EmptyRecording),
    ("WAV header only, zero frames", "wav-header-only", EmptyRecording),
    ("truncated WAV", "wav-half", TruncatedRecording),
    (
        "WAV header claims a minute, data is one second",
        "wav-header-claims-more",
        TruncatedRecording,
    ),
    ("truncated FLAC", "flac-half", TruncatedRecording),
    ("truncated MP3", "mp3-half", TruncatedRecording),
    ("truncated Ogg/Opus", "ogg-opus-half", TruncatedRecording),
    ("truncated Ogg/Vorbis", "ogg-vorbis-half", TruncatedRecording),
    ("Ogg cut at a page boundary (no end-of-stream)", "ogg-no-end-of-stream", TruncatedRecording),
    ("truncated M4A (index at the end)", "m4a-half", TruncatedRecording),
    ("truncated M4A (index at the start)", "m4a-faststart-half", TruncatedRecording),
    ("M4A whose recorder never wrote the index", "m4a-no-index", TruncatedRecording),
    ("truncated ADTS AAC", "aac-adts-half", TruncatedRecording),
    ("truncated WebM", "webm-half", TruncatedRecording),
    ("truncated live-recorded WebM", "webm-live-half", TruncatedRecording),
]


@needs_ffmpeg
@pytest.mark.parametrize(("sample", "error"), [pytest.param(s, e, id=c) for c, s, e in BAD])
def test_bad_input_is_refused(samples: Samples, sample: str, error: type[CaseAssistError]) -> None:
    with pytest.raises(error) as caught:
        probe(samples[sample], max_duration_s=MAX_S)
    assert type(caught.value) is error
    _assert_plain_message(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NoAudioFile) as caught:
        probe(tmp_path / f"{PERSONAL}.wav", max_duration_s=MAX_S)
    _assert_plain_message(caught.value)


@needs_ffmpeg
@pytest.mark.parametrize("sample", ["wav-3s", "mp3-3s", "ogg-opus-3s"])
def test_over_max_duration(samples: Samples, sample: str) -> None:
    with pytest.raises(RecordingTooLong) as caught:
        probe(samples[sample], max_duration_s=1.0)
    assert "3 s" in caught.value.message and "1 s" in caught.value.message
    _assert_plain_message(caught.value)


@needs_ffmpeg
@pytest.mark.parametrize("sample", ["wav-3h-sparse", "mp3-3h"])
def test_three_hour_file_is_refused_fast_without_decoding(
    samples: Samples, sample: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = samples[sample]

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over the limit was decoded")

    monkeypatch.setattr(audio_module, "_decode_until", no_decoding)
    started = time.perf_counter()
    with pytest.raises(RecordingTooLong, match="3 h 0 min"):
        probe(path, max_duration_s=MAX_S)
    assert time.perf_counter() - started < 2.0


# --- saving uploads ---------------------------------------------------------------------------
async def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
        await asyncio.sleep(0)


async def _disconnecting(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise ConnectionResetError("client went away")


_BOUNDARY = "test-boundary-7f3a"


async def _multipart(
    audio: AsyncIterator[bytes] | None, fields: dict[str, str] | None = None
) -> AsyncIterator[bytes]:
    """A multipart/form-data body around ``audio``, passed on chunk by chunk as it arrives."""
    for name, value in (fields or {}).items():
        yield f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        yield value.encode() + b"\r\n"
    if audio is not None:
        yield (
            f"--{_BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="audio"; filename="{PERSONAL}.wav"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        async for chunk in audio:
            yield chunk
        yield b"\r\n"
    yield f"--{_BOUNDARY}--\r\n".encode()


def _upload(body: AsyncIterator[bytes], dest: Path, *, max_bytes: int) -> tuple[int, str]:
    """Run the service's upload path (``receive_upload`` and its RecordingWriter) on ``body``."""

    async def receive() -> dict[str, object]:
        try:
            chunk = await anext(body)
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/recordings",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={_BOUNDARY}".encode()),
        ],
    }

    async def run() -> tuple[int, str]:
        upload = await receive_upload(Request(scope, receive), dest, max_bytes=max_bytes)
        assert upload.path == dest
        return upload.size, upload.sha256

    return asyncio.run(run())


def test_upload_streams_and_hashes(tmp_path: Path) -> None:
    data = random.Random(1).randbytes(10_000)
    dest = tmp_path / "upload.bin"
    size, sha = _upload(_multipart(_chunks(data)), dest, max_bytes=10_000)
    assert (size, sha) == (10_000, hashlib.sha256(data).hexdigest())
    assert dest.read_bytes() == data


@pytest.mark.parametrize(
    ("stream", "error"),
    [
        pytest.param(lambda: _chunks(b"x" * 10_001), RecordingTooLarge, id="over the size limit"),
        pytest.param(lambda: _chunks(b""), EmptyRecording, id="zero bytes"),
        pytest.param(
            lambda: _disconnecting(b"x" * 500), ConnectionResetError, id="client disconnects"
        ),
    ],
)
def test_upload_leaves_no_partial_file(
    tmp_path: Path, stream: Callable[[], AsyncIterator[bytes]], error: type[Exception]
) -> None:
    dest = tmp_path / f"{PERSONAL}.bin"
    with pytest.raises(error) as caught:
        _upload(_multipart(stream()), dest, max_bytes=10_000)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []  # nor the .part file it was written to
    if isinstance(caught.value, CaseAssistError):
        _assert_plain_message(caught.value)


def test_upload_never_writes_past_the_limit(tmp_path: Path) -> None:
    written: list[int] = []
    dest = tmp_path / "upload.bin"
    part = dest.with_name(dest.name + ".part")  # where the bytes go until the upload ends

    async def watching() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 1000
            written.append(part.stat().st_size if part.exists() else 0)

    with pytest.raises(RecordingTooLarge, match="upload limit"):
        _upload(_multipart(watching()), dest, max_bytes=5_000)
    assert max(written) <= 5_000
    assert len(written) <= 6  # stopped reading as soon as the limit was passed


def test_upload_size_cap_is_exact(tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"abc" * 1000)
    out = tmp_path / "out.bin"
    size, sha = _upload(_multipart(_chunks(src.read_bytes())), out, max_bytes=3000)
    assert (size, sha) == (3000, hashlib.sha256(b"abc" * 1000).hexdigest())

    with pytest.raises(RecordingTooLarge):
        _upload(_multipart(_chunks(src.read_bytes())), tmp_path / "big.bin", max_bytes=2999)
    assert not (tmp_path / "big.bin").exists()

    # No audio part at all (the upload path's counterpart of a missing source file).
    with pytest.raises(NoAudioFile) as caught:
        _upload(_multipart(None, {"visit_type": PERSONAL}), tmp_path / "x.bin", max_bytes=10)
    _assert_plain_message(caught.value)


def test_upload_is_written_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large upload must not stall other requests: its disk writes run in worker threads."""
    threads: set[int] = set()
    write = RecordingWriter.write

    def recording_thread(self: RecordingWriter, chunk: bytes) -> None:
        threads.add(threading.get_ident())
        write(self, chunk)

    monkeypatch.setattr(RecordingWriter, "write", recording_thread)
    _upload(_multipart(_chunks(b"x" * 5000)), tmp_path / "upload.bin", max_bytes=10_000)
    assert threads and threading.get_ident() not in threads  # asyncio.run's loop is this thread


# --- decoding and speech ----------------------------------------------------------------------
@needs_ffmpeg
def test_load_pcm16k_resamples_and_downmixes(samples: Samples) -> None:
    pcm = load_pcm16k(samples["wav-44k-stereo-24bit"])
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert len(pcm) == pytest.approx(5 * SR, abs=SR * 0.05)


def _noise(kind: str, seconds: float = 10.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    white = rng.standard_normal(n)
    if kind == "white":
        signal = white
    elif kind == "pink":
        spectrum = np.fft.rfft(white)
        spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
        signal = np.fft.irfft(spectrum, n)
    elif kind == "brown":
        signal = np.cumsum(white)
        signal -= np.linspace(signal[0], signal[-1], n)
    else:
        raise ValueError(kind)
    return (0.5 * signal / np.abs(signal).max()).astype(np.float32)


NOT_SPEECH = [
    ("digital silence", lambda: np.zeros(10 * SR, dtype=np.float32)),
    ("near silence (dither)", lambda: _noise("white") * 0.002),
    ("white noise", lambda: _noise("white")),
    ("pink noise", lambda: _noise("pink")),
    ("brown noise (rumble)", lambda: _noise("brown")),
    (
        "mains hum",
        lambda: (0.3 * np.sin(2 * np.pi * 50 * np.arange(10 * SR) / SR)).astype(np.float32),
    ),  # fmt: skip
    ("a steady tone", lambda: _tone(10.0)[:, 0].astype(np.float32)),
]


@pytest.mark.parametrize("make", [pytest.param(m, id=c) for c, m in NOT_SPEECH])
def test_has_speech_false_without_speech(make: Callable[[], np.ndarray]) -> None:
    # The pipeline answers SilentRecording for these.
    assert has_speech(make()) is False


@needs_espeak
def test_has_speech_true_for_synthetic_speech(tmp_path: Path) -> None:
    wav = synthesize("Hello, I am here to see how the family is getting on.", tmp_path / "s.wav")
    assert has_speech(load_pcm16k(wav)) is True


@needs_espeak
@needs_ffmpeg
def test_has_speech_true_after_lossy_compression(tmp_path: Path) -> None:
    wav = synthesize("Tom goes to school every day and likes football.", tmp_path / "s.wav")
    opus = _encode(wav, tmp_path / "s.upload", "-c:a", "libopus", "-b:a", "16k", "-f", "ogg")
    assert has_speech(load_pcm16k(opus)) is True


@pytest.mark.parametrize(
    "clip", [pytest.param(p, id=p.stem[-4:]) for p, _ in real_speech_clips()] or [None]
)
def test_has_speech_true_for_recorded_speech(clip: Path | None) -> None:
    if clip is None:
        pytest.skip("recorded speech missing: apt-get install pocketsphinx-testdata")
    assert has_speech(load_pcm16k(clip)) is True


def test_has_speech_needs_enough_speech() -> None:
    clips = real_speech_clips()
    if not clips:
        pytest.skip("recorded speech missing: apt-get install pocketsphinx-testdata")
    speech = load_pcm16k(clips[0][0])
    assert has_speech(speech[: SR // 4]) is False  # a quarter of a second
    assert has_speech(speech, min_speech_s=60.0) is False


def test_has_speech_wants_mono() -> None:
    with pytest.raises(ValueError, match="mono"):
        has_speech(np.zeros((SR, 2), dtype=np.float32))
