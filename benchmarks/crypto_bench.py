"""What encryption at rest costs: a 60-minute WAV encrypted and decrypted in 64 KiB chunks
(``assistant.audio.sealed``, AES-256-GCM) against a plain copy of the same file, side by side.

    .venv/bin/python benchmarks/crypto_bench.py [--minutes 60] [--rate 16000] [--channels 1]
        [--dir /tmp]

Prints the machine, the file size, the best of ``--repeat`` runs of each, and the ratio
(sealed write + read) / (plain copy + read). Also times a seek: one 1 KiB range read from the
middle of the encrypted file, which decrypts one chunk. Not a test (timings depend on the
machine). The audio is silence plus a tone, made here: nobody's voice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.audio.sealed import CHUNK, SealedFile, seal_file  # noqa: E402
from eval.provenance import machine  # noqa: E402


def make_wav(path: Path, *, minutes: float, rate: int, channels: int) -> int:
    """A 16-bit PCM WAV of a quiet tone, written a second at a time (flat memory)."""
    frames = int(minutes * 60 * rate)
    data_bytes = frames * channels * 2
    second = bytearray()
    for i in range(rate):
        sample = int(3000 * ((i // 40) % 2 * 2 - 1))  # a 200 Hz square wave at 16 kHz
        second += struct.pack("<h", sample) * channels
    with open(path, "wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt ")
        fh.write(
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16)
        )
        fh.write(b"data" + struct.pack("<I", data_bytes))
        left = data_bytes
        while left > 0:
            block = bytes(second[: min(len(second), left)])
            fh.write(block)
            left -= len(block)
    return path.stat().st_size


def read_all(fh) -> int:  # type: ignore[no-untyped-def]
    n = 0
    while block := fh.read(CHUNK * 16):
        n += len(block)
    return n


def plain_round(src: Path, dst: Path) -> float:
    """What storing did before: a copy synced to disk (the upload writer syncs), read back."""
    t0 = time.perf_counter()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while block := fin.read(CHUNK * 16):
            fout.write(block)
        fout.flush()
        os.fsync(fout.fileno())
    with open(dst, "rb") as fh:
        read_all(fh)
    return time.perf_counter() - t0


def sealed_round(src: Path, dst: Path, key: bytes) -> float:
    t0 = time.perf_counter()
    seal_file(src, dst, key, b"audio:bench")
    with SealedFile(dst, key, b"audio:bench").open() as fh:
        read_all(fh)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--rate", type=int, default=16000)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crypto_bench_", dir=args.dir))
    try:
        src = work / "visit.wav"
        size = make_wav(src, minutes=args.minutes, rate=args.rate, channels=args.channels)
        key = os.urandom(32)
        plain = min(plain_round(src, work / "copy.wav") for _ in range(args.repeat))
        sealed = min(sealed_round(src, work / "sealed.bin", key) for _ in range(args.repeat))
        overhead = (work / "sealed.bin").stat().st_size - size
        with SealedFile(work / "sealed.bin", key, b"audio:bench").open() as fh:
            t0 = time.perf_counter()
            fh.seek(size // 2)
            fh.read(1024)
            seek_ms = (time.perf_counter() - t0) * 1000
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = machine()
    print(f"machine: {m['cpu_model']}, {m.get('cpus', os.cpu_count())} CPUs, {m['platform']}")
    print(
        f"file: {args.minutes:g}-minute WAV, {args.rate} Hz, {args.channels} channel(s), 16-bit: "
        f"{size / 1e6:.1f} MB (+{overhead / 1e6:.2f} MB encrypted: header, nonces, tags)"
    )
    print(f"plain copy (synced) + read:   {plain:.3f} s ({size / plain / 1e6:.0f} MB/s)")
    print(f"encrypt + decrypt (sealed):   {sealed:.3f} s ({size / sealed / 1e6:.0f} MB/s)")
    print(f"ratio sealed / plain:         {sealed / plain:.2f}")
    print(f"seek + 1 KiB read mid-file:   {seek_ms:.2f} ms (one 64 KiB chunk decrypted)")
    print(f"best of {args.repeat} runs each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
