"""The speaker encoder: Resemblyzer's GE2E network (Apache-2.0), run in numpy.

Resemblyzer ships the weights with a torch model; torch is a multi-gigabyte dependency for a
17 MB, three-layer LSTM, so the forward pass is written out here instead and checked against
the original (``benchmarks/diarisation_bench.py --reference`` documents how; the largest
difference measured is in MODEL_CARD.md). The features are Resemblyzer's: a power (not log) mel
spectrogram of 40 bands, 25 ms windows every 10 ms at 16 kHz, as ``librosa.feature.
melspectrogram`` computes it with Resemblyzer's settings. Resemblyzer's own ``preprocess_wav`` is
not reproduced: it trims silences and would shift every time after the first pause.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.diarisation.weights import load_state
from assistant.domain import ModelRef

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one mel frame every HOP samples
N_MELS = 40
HIDDEN = 256
LAYERS = 3
EMBEDDING_SIZE = 256


# --- features ---------------------------------------------------------------------------------
def _hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``): linear below 1 kHz, log above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        hz >= min_log_hz,
        min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep,
        hz / f_sp,
    )


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels
    )


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, Slaney-normalised: librosa.filters.mel."""
    fftfreqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


_FILTERS = mel_filterbank()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def mel_frames(wav: np.ndarray, *, block: int = 6000) -> np.ndarray:
    """(1 + len(wav) // HOP, 40) float32 power mel frames; frame ``i`` is centred on sample
    ``i * HOP`` (zero padding at both ends, as librosa's ``center=True``)."""
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, N_FFT // 2)
    n_frames = 1 + len(wav) // HOP
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    for start in range(0, n_frames, block):  # bounded memory for long recordings
        stop = min(start + block, n_frames)
        frames = np.lib.stride_tricks.as_strided(
            padded[start * HOP :],
            shape=(stop - start, N_FFT),
            strides=(padded.strides[0] * HOP, padded.strides[0]),
            writeable=False,
        )
        spec = np.fft.rfft(frames * _WINDOW, axis=1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        out[start:stop] = power @ _FILTERS.T
    return out


# --- the network ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layer:
    w_ih: np.ndarray  # (in, 4H), transposed for x @ w
    w_hh: np.ndarray  # (H, 4H)
    bias: np.ndarray  # (4H,), both biases summed


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # never overflows, unlike 1 / (1 + exp(-x))


class SpeakerEncoder:
    """256-d, L2-normalised speaker embeddings of fixed-length stacks of mel frames.

    Handed the weights (``load_encoder`` reads them from the pinned file)."""

    def __init__(self, state: dict[str, np.ndarray], *, model_ref: ModelRef):
        self.model_ref = model_ref
        self._layers = tuple(
            _Layer(
                w_ih=np.ascontiguousarray(state[f"lstm.weight_ih_l{n}"].T, dtype=np.float32),
                w_hh=np.ascontiguousarray(state[f"lstm.weight_hh_l{n}"].T, dtype=np.float32),
                bias=(state[f"lstm.bias_ih_l{n}"] + state[f"lstm.bias_hh_l{n}"]).astype(np.float32),
            )
            for n in range(LAYERS)
        )
        self._linear_w = np.ascontiguousarray(state["linear.weight"].T, dtype=np.float32)
        self._linear_b = state["linear.bias"].astype(np.float32)
        if self._linear_w.shape != (HIDDEN, EMBEDDING_SIZE):
            raise ValueError("speaker encoder weights have an unexpected shape")

    def embed(self, mels: np.ndarray, *, batch: int = 128) -> np.ndarray:
        """(N, T, 40) mel stacks -> (N, 256) unit vectors (a zero stack gives a zero vector)."""
        mels = np.asarray(mels, dtype=np.float32)
        if mels.ndim != 3 or mels.shape[2] != N_MELS:
            raise ValueError("embed expects mel frames shaped (windows, frames, 40)")
        out = np.zeros((len(mels), EMBEDDING_SIZE), dtype=np.float32)
        for start in range(0, len(mels), batch):
            out[start : start + batch] = self._forward(mels[start : start + batch])
        return out

    def _forward(self, x: np.ndarray) -> np.ndarray:
        n, steps, _ = x.shape
        h = np.zeros((n, HIDDEN), dtype=np.float32)
        for layer in self._layers:
            # the input projection of every time step at once; only h @ w_hh is sequential
            gates_in = (x.reshape(n * steps, -1) @ layer.w_ih + layer.bias).reshape(n, steps, -1)
            h = np.zeros((n, HIDDEN), dtype=np.float32)
            c = np.zeros((n, HIDDEN), dtype=np.float32)
            outputs = np.empty((n, steps, HIDDEN), dtype=np.float32)
            for t in range(steps):
                g = gates_in[:, t] + h @ layer.w_hh
                i, f = _sigmoid(g[:, :HIDDEN]), _sigmoid(g[:, HIDDEN : 2 * HIDDEN])
                cell, o = np.tanh(g[:, 2 * HIDDEN : 3 * HIDDEN]), _sigmoid(g[:, 3 * HIDDEN :])
                c = f * c + i * cell
                h = o * np.tanh(c)
                outputs[:, t] = h
            x = outputs
        raw = np.maximum(h @ self._linear_w + self._linear_b, 0.0)  # last layer's final state
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        return np.divide(raw, norm, out=np.zeros_like(raw), where=norm > 0)


def load_encoder(path: Path, *, model_ref: ModelRef) -> SpeakerEncoder:
    """Read the pinned ``pretrained.pt`` (verified by the model store before this is called)."""
    t0 = time.perf_counter()
    state = load_state(path)
    if not isinstance(state, dict) or "model_state" not in state:
        raise ValueError(f"{path.name} holds no model_state")
    encoder = SpeakerEncoder(state["model_state"], model_ref=model_ref)
    log.info("speaker encoder loaded in %.2fs", time.perf_counter() - t0)
    return encoder
