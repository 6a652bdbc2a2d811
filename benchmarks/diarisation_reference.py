"""Check the numpy speaker encoder against Resemblyzer itself (torch), on real clips.

Not part of the project's environment: run it in a throwaway virtual environment that has
torch, librosa and resemblyzer (installed ``--no-deps``; its ``webrtcvad`` pin is broken):

    python3 -m venv /tmp/tv
    /tmp/tv/bin/pip install torch==2.13.0 numpy librosa pydantic
    /tmp/tv/bin/pip install --no-deps resemblyzer==0.1.4
    PYTHONPATH=$PWD /tmp/tv/bin/python benchmarks/diarisation_reference.py \\
        --weights var/models/resemblyzer-ge2e-0.1.4/pretrained.pt CLIP.wav ...

For each clip (16 kHz mono WAV) it prints the largest absolute difference of the mel filters,
of the mel frames and of the partial embeddings of ``VoiceEncoder.embed_utterance`` between
Resemblyzer and ``assistant.diarisation.encoder``, on the same samples (Resemblyzer's
``preprocess_wav`` is skipped by both: it trims silences).
"""

from __future__ import annotations

import argparse
import json
import wave
from pathlib import Path

import numpy as np


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path}: expected 16 kHz mono 16-bit WAV")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def _stub_unused_imports() -> None:
    """Resemblyzer imports webrtcvad and scipy.ndimage.morphology for ``preprocess_wav`` only,
    which this check does not use; the first breaks on current setuptools, the second is gone
    from current scipy."""
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("webrtcvad") is None:
        sys.modules["webrtcvad"] = types.ModuleType("webrtcvad")
    try:
        import scipy.ndimage.morphology  # noqa: F401
    except ImportError:
        import scipy.ndimage

        sys.modules["scipy.ndimage.morphology"] = scipy.ndimage


def main() -> None:
    _stub_unused_imports()
    import librosa
    import torch
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import wav_to_mel_spectrogram

    from assistant.diarisation.encoder import load_encoder, mel_filterbank, mel_frames
    from assistant.domain import ModelRef

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("clips", type=Path, nargs="+")
    args = parser.parse_args()

    torch.set_num_threads(2)
    reference = VoiceEncoder(device="cpu", verbose=False, weights_fpath=args.weights)
    ours = load_encoder(args.weights, model_ref=ModelRef(name="check", sha256=""))
    filters = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)
    report: dict = {
        "librosa": librosa.__version__,
        "torch": torch.__version__,
        "mel_filter_max_abs_diff": float(np.abs(filters - mel_filterbank()).max()),
        "clips": [],
    }
    for clip in args.clips:
        wav = _read(clip)
        _, ref_partials, slices = reference.embed_utterance(wav, return_partials=True)
        padded = np.pad(wav, (0, max(0, slices[-1].stop - len(wav))))
        ref_mel, our_mel = wav_to_mel_spectrogram(padded), mel_frames(padded)
        frames = [our_mel[s.start // 160 : s.start // 160 + 160] for s in slices]
        our_partials = ours.embed(np.stack(frames))
        with torch.no_grad():  # our frames through their network: isolates the LSTM
            theirs_on_ours = reference(torch.from_numpy(np.stack(frames))).numpy()
        report["clips"].append(
            {
                "clip": clip.name,
                "seconds": round(len(wav) / 16000, 2),
                "partials": len(slices),
                "mel_max_rel_diff": float(
                    np.abs(ref_mel - our_mel).max() / max(float(np.abs(ref_mel).max()), 1e-12)
                ),
                "embedding_max_abs_diff": float(np.abs(ref_partials - our_partials).max()),
                "network_only_max_abs_diff": float(np.abs(theirs_on_ours - our_partials).max()),
                "min_cosine": float(np.min(np.sum(ref_partials * our_partials, axis=1))),
            }
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
