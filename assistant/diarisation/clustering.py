"""Spectral clustering of speaker embeddings that chooses the number of speakers, in numpy.

The affinity is cosine similarity, kept only between each window and its nearest neighbours
(the rest of a long recording says nothing useful about a window) and made symmetric. The
number of speakers is where the Laplacian's eigenvalues jump (the eigengap), searched within
the bounds from settings: unbounded, long recordings were over-counted (MODELS.md). The
neighbour count is chosen per recording as in auto-tuning spectral clustering (Park et al.,
2019): the one whose largest normalised eigengap is clearest. No similarity threshold decides
anything: a threshold on cosine distance found 2 to 13 speakers in one recording depending on
its value (MODELS.md), and the centroids of two real voices (the pyannote sample call) are as
similar (0.89) as two halves of one voice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterOptions:
    min_speakers: int = 1
    max_speakers: int = 8
    min_neighbours: int = 6
    #: most windows clustered directly (a window every 0.6 s: 20 minutes of speech); beyond,
    #: an even sample is clustered and every other window joins its nearest cluster, so the
    #: N x N eigendecompositions stay bounded in time and memory on long recordings
    max_windows: int = 2000
    seed: int = 0


#: How far above ``max_speakers`` the eigengap is also read, to tell whether the recording
#: seems to hold more voices than the bound lets through (settings allow at most 20).
UNBOUNDED = 20


@dataclass(frozen=True)
class Clusters:
    labels: np.ndarray
    #: the eigengap, read without the upper bound, points at more speakers than
    #: ``max_speakers``: some labels may hold more than one voice
    beyond_max: bool = False


def cluster(embeddings: np.ndarray, options: ClusterOptions) -> np.ndarray:
    """A cluster index (0..k-1) for each row of ``embeddings`` (unit vectors)."""
    return clusters(embeddings, options).labels


def clusters(embeddings: np.ndarray, options: ClusterOptions) -> Clusters:
    """``cluster``, saying also whether the bound held more voices back."""
    n = len(embeddings)
    if n == 0:
        return Clusters(np.zeros(0, dtype=int))
    if n > options.max_windows:
        return _cluster_sample(embeddings, options)
    lo, hi = max(1, options.min_speakers), max(1, options.max_speakers)
    if n < max(2 * options.min_neighbours, 2 * lo, 4):
        # too few windows for the neighbour graph to tell voices apart: one speaker, unless
        # settings say there are at least ``lo`` (then the nearest windows are grouped)
        k = min(lo, n)
        labels = kmeans(embeddings, k, seed=options.seed) if k > 1 else np.zeros(n, int)
        return Clusters(_renumber(labels))
    similarity = np.clip(embeddings @ embeddings.T, 0.0, 1.0)
    k, vectors, unbounded = _choose(similarity, lo, min(hi, n - 1), options.min_neighbours)
    labels = kmeans(vectors[:, :k], k, seed=options.seed) if k > 1 else np.zeros(n, int)
    return Clusters(_renumber(labels), beyond_max=unbounded > hi)


def _cluster_sample(embeddings: np.ndarray, options: ClusterOptions) -> Clusters:
    sample = np.linspace(0, len(embeddings) - 1, options.max_windows).round().astype(int)
    found = clusters(embeddings[sample], options)
    sample_labels = found.labels
    ids = sorted(set(sample_labels.tolist()))
    centroids = np.array([embeddings[sample][sample_labels == c].mean(axis=0) for c in ids])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    labels = np.array(ids)[np.argmax(embeddings @ centroids.T, axis=1)]
    labels[sample] = sample_labels
    return Clusters(_renumber(labels), beyond_max=found.beyond_max)


def _choose(similarity: np.ndarray, lo: int, hi: int, min_p: int) -> tuple[int, np.ndarray, int]:
    """(number of speakers, Laplacian eigenvectors) for the best neighbour count, and the
    number the same rule finds when the upper bound is lifted to ``UNBOUNDED`` (read from the
    same eigenvalues: no extra cost). Only the bounded choice labels anything: unbounded,
    long recordings were over-counted."""
    n = len(similarity)
    best: tuple[float, int, np.ndarray] | None = None
    free: tuple[float, int] | None = None
    top = min(n - 1, max(hi, UNBOUNDED))
    max_p = max(min_p, min(n // 4, 30))
    for p in sorted({min_p, *range(min_p, max_p + 1, max(1, (max_p - min_p) // 6))}):
        values, vectors = np.linalg.eigh(_laplacian(_knn_affinity(similarity, p)))
        gaps = np.diff(values[: top + 1])  # gaps[i] = value[i+1] - value[i]: i+1 clusters
        scale = max(values[-1], 1e-9)
        k = lo + int(np.argmax(gaps[lo - 1 : hi]))
        ratio = p / max(gaps[k - 1] / scale, 1e-9)
        if best is None or ratio < best[0]:
            best = (ratio, k, vectors)
        k_free = lo + int(np.argmax(gaps[lo - 1 : top]))
        ratio_free = p / max(gaps[k_free - 1] / scale, 1e-9)
        if free is None or ratio_free < free[0]:
            free = (ratio_free, k_free)
    assert best is not None and free is not None
    return best[1], best[2], free[1]


def _knn_affinity(similarity: np.ndarray, p: int) -> np.ndarray:
    """Keep each row's ``p`` largest similarities (binarised), then symmetrise."""
    n = len(similarity)
    p = min(p, n - 1)
    keep = np.argpartition(-similarity, p, axis=1)[:, : p + 1]  # itself included
    affinity = np.zeros_like(similarity)
    np.put_along_axis(affinity, keep, 1.0, axis=1)
    return (affinity + affinity.T) / 2.0


def _laplacian(affinity: np.ndarray) -> np.ndarray:
    return np.diag(affinity.sum(axis=1)) - affinity


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, restarts: int = 10) -> np.ndarray:
    """Lloyd's k-means with k-means++ starts; the best of ``restarts`` by inertia."""
    rng = np.random.default_rng(seed)
    best_labels, best_inertia = np.zeros(len(x), dtype=int), np.inf
    for _ in range(restarts):
        centres = _kmeans_pp(x, k, rng)
        labels = np.zeros(len(x), dtype=int)
        for _ in range(100):
            dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            new = dist.argmin(axis=1)
            if np.array_equal(new, labels) and _ > 0:
                break
            labels = new
            for c in range(k):
                members = x[labels == c]
                if len(members):
                    centres[c] = members.mean(axis=0)
        inertia = float(((x - centres[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min([((x - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d.sum()
        idx = rng.choice(len(x), p=d / total) if total > 0 else rng.integers(len(x))
        centres.append(x[idx])
    return np.array(centres, dtype=np.float64)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """0, 1, 2 … in order of first appearance."""
    order: dict[int, int] = {}
    for value in labels.tolist():
        order.setdefault(value, len(order))
    return np.array([order[v] for v in labels.tolist()], dtype=int)
