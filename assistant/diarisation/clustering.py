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
    # float64 throughout: in float32 the eigengaps of near-identical graphs differed by
    # machine and the speaker count with them
    unit = np.asarray(embeddings, dtype=np.float64)
    similarity = np.clip(unit @ unit.T, 0.0, 1.0)
    k, vectors, unbounded = _choose(similarity, lo, min(hi, n - 1), options.min_neighbours)
    points = unit if vectors is None else vectors[:, :k]
    labels = kmeans(points, k, seed=options.seed) if k > 1 else np.zeros(n, int)
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


#: Two scores closer than this (relative) are a tie, settled towards fewer speakers. Without
#: it, the count followed the last bits of rounding: the same 60-minute file gave 2 speakers on
#: one machine and 6 on another (benchmarks/diarisation_rounding.py).
TIE = 1e-6


def _choose(
    similarity: np.ndarray, lo: int, hi: int, min_p: int
) -> tuple[int, np.ndarray | None, int]:
    """(number of speakers, Laplacian eigenvectors) for the best neighbour count, and the
    number the same rule finds when the upper bound is lifted to ``UNBOUNDED`` (read from the
    same eigenvalues: no extra cost). Only the bounded choice labels anything: unbounded,
    long recordings were over-counted.

    A neighbour graph that falls into more pieces than ``hi`` is skipped: its Laplacian has
    that many zero eigenvalues, and the gaps between them are rounding noise, so the count it
    gives is chosen by the machine's arithmetic, not by the voices. A graph in fewer pieces
    gives at least as many speakers as it has pieces (no voice spans two pieces). When every
    usual neighbour count breaks the graph apart (passages repeated word for word give
    near-identical windows that are each other's only neighbours), larger counts are tried, up
    to a quarter of the windows; if none holds together, ``lo`` speakers and no eigenvectors:
    the caller groups the embeddings themselves."""
    n = len(similarity)
    top = min(n - 1, max(hi, UNBOUNDED))
    max_p = max(min_p, min(n // 4, 30))
    usual = sorted({min_p, *range(min_p, max_p + 1, max(1, (max_p - min_p) // 6))})
    wider = sorted({int(max_p * 1.5**i) for i in range(1, 12)} & set(range(max_p + 1, n // 4 + 1)))
    order = _neighbour_order(similarity, min(max(usual + wider), n - 1))
    tried: list[Scored] = []
    free: list[Scored] = []
    for grid in (usual, wider):
        for p in grid:
            affinity = _knn_affinity(order, p)
            pieces = _pieces(affinity)
            if pieces > hi:
                continue
            values, vectors = np.linalg.eigh(_laplacian(affinity))
            # gaps[i]: value[i+1] - value[i], i+1 clusters, relative to the largest value
            gaps = np.diff(values[: top + 1]) / max(float(values[-1]), 1e-9)
            first = max(lo, pieces)
            k = first + _first_largest(gaps[first - 1 : hi])
            tried.append((p / max(float(gaps[k - 1]), 1e-9), k, p, vectors))
            k_free = first + _first_largest(gaps[first - 1 : top])
            free.append((p / max(float(gaps[k_free - 1]), 1e-9), k_free, p, None))
        if tried:
            break
    if not tried:
        return lo, None, lo
    best = _least(tried)
    return best[1], best[3], _least(free)[1]


Scored = tuple[float, int, int, "np.ndarray | None"]


def _least(scored: list[Scored]) -> Scored:
    """The lowest score; within ``TIE`` of it, the fewest speakers, then the fewest neighbours."""
    low = min(s[0] for s in scored)
    near = [s for s in scored if s[0] <= low * (1.0 + TIE)]
    return min(near, key=lambda s: (s[1], s[2]))


def _first_largest(values: np.ndarray) -> int:
    """Index of the largest value; the first of any within ``TIE`` of it (fewer speakers)."""
    top = float(values.max())
    return int(np.flatnonzero(values >= top - TIE * max(abs(top), 1e-12))[0])


def _neighbour_order(similarity: np.ndarray, p: int) -> np.ndarray:
    """Each row's ``p + 1`` nearest windows, itself first, equal similarities in window order:
    argpartition broke ties however the platform's sort did, and tied similarities are common
    (cosines clipped at 0 and 1, repeated windows of one steady sound)."""
    # similarities equal to within ``TIE`` are equal: near-identical windows (a passage said
    # twice) were otherwise ranked by the last bits of rounding
    ranked = np.round(similarity / TIE) * TIE
    np.fill_diagonal(ranked, np.inf)
    return np.argsort(-ranked, axis=1, kind="stable")[:, : p + 1]


def _knn_affinity(order: np.ndarray, p: int) -> np.ndarray:
    """Keep each row's ``p`` nearest windows (binarised), then symmetrise."""
    n = len(order)
    affinity = np.zeros((n, n), dtype=np.float64)
    np.put_along_axis(affinity, order[:, : min(p, n - 1) + 1], 1.0, axis=1)
    return (affinity + affinity.T) / 2.0


def _pieces(affinity: np.ndarray) -> int:
    """How many disconnected pieces the neighbour graph has (counted, not read off
    eigenvalues, whose zeros are only zero to rounding)."""
    n = len(affinity)
    seen = np.zeros(n, dtype=bool)
    pieces = 0
    for start in range(n):
        if seen[start]:
            continue
        pieces += 1
        frontier = np.zeros(n, dtype=bool)
        frontier[start] = True
        seen[start] = True
        while frontier.any():
            reached = (affinity[frontier] > 0).any(axis=0) & ~seen
            seen |= reached
            frontier = reached
    return pieces


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
