"""Speaker clustering of window features: how many speakers, and who spoke in each window.

Input rows are unit vectors from :func:`normalization.normalize`, so ``x @ x.T`` is the cosine
affinity. Pipeline:
1. affinity: cosine similarities, each row pruned to its strongest ``PRUNING`` share and
   symmetrised (spectral clustering as in Park et al. 2019, "auto-tuning spectral clustering");
2. one speaker or more: the second-smallest eigenvalue of the normalised Laplacian (algebraic
   connectivity) is near 0 when the graph falls apart into speakers and large for one voice,
   so above ``single_speaker_threshold`` the file is one speaker (eigengaps alone would always
   pick 2 or more: monologues must not be split);
3. how many (when not given): the largest eigengap in [max(2, min_speakers), max_speakers],
   max_speakers defaulting to ``config.max_auto_speakers`` (10);
4. which: k-means on the row-normalised first k eigenvectors, or (``use_centroids``) cosine
   k-means seeded with the PT-BR "typical voices" nearest to the windows;
5. re-segmentation (optional): Viterbi over the window sequence against the cluster centroids
   with a speaker-change penalty, which fixes isolated windows that straddle a change.

Option checks: num_speakers, min_speakers and max_speakers
must be >= 1 and min <= max, else InvalidRequestError; asking for more speakers
(num_speakers, min_speakers) than there are windows is an InvalidRequestError, while a
max_speakers above the window count is clamped (it is only a bound). No speech -> no turns.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from sklearn.cluster import KMeans

from transcrevai.diarization.config import DiarizationConfig
from transcrevai.errors import InvalidRequestError

# Share of each row's strongest affinities kept, per feature kind: GE2E windows of one speaker
# are dense enough for 0.25; the noisier MFCC kinds separate better with 0.1 (measured).
PRUNING: dict[str, float] = {"ge2e": 0.25, "ge2e+mfcc": 0.25, "mfcc": 0.1, "mfcc+spectral": 0.1}
# Threshold on the Laplacian's 2nd eigenvalue above which a file is one speaker, per feature
# kind and normalisation mode, at the pruning above: between the largest value seen on 32 mls-pt
# conversations (2-4 speakers) and the smallest on 20 monologues. GE2E: a wide empty gap (0.027
# vs 0.126 with "ptbr"); the MFCC kinds overlap, so they misjudge a few files.
SINGLE_THRESHOLDS: dict[tuple[str, str], float] = {
    ("ge2e", "ptbr"): 0.06,
    ("ge2e", "file"): 0.055,
    ("ge2e", "population"): 0.104,
    ("ge2e+mfcc", "ptbr"): 0.07,
    ("ge2e+mfcc", "file"): 0.06,
    ("ge2e+mfcc", "population"): 0.108,
    ("mfcc", "ptbr"): 0.062,
    ("mfcc", "file"): 0.041,
    ("mfcc", "population"): 0.127,
    ("mfcc+spectral", "ptbr"): 0.037,
    ("mfcc+spectral", "file"): 0.032,
    ("mfcc+spectral", "population"): 0.083,
}
DEFAULT_SINGLE = 0.06
SWITCH_PENALTY = 0.3  # Viterbi change cost in cosine units: 0.2-0.4 measured equally good


def check_counts(
    n: int, num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> tuple[int, int, int | None]:
    """Validated (lo, hi, fixed) speaker-count bounds for ``n`` windows (see module doc)."""
    for name, v in (
        ("num_speakers", num_speakers),
        ("min_speakers", min_speakers),
        ("max_speakers", max_speakers),
    ):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise InvalidRequestError(f"{name} must be a whole number >= 1, got {v!r}")
    if min_speakers is not None and max_speakers is not None and min_speakers > max_speakers:
        raise InvalidRequestError("min_speakers must not be greater than max_speakers")
    if num_speakers is not None:
        if (min_speakers is not None and num_speakers < min_speakers) or (
            max_speakers is not None and num_speakers > max_speakers
        ):
            raise InvalidRequestError("num_speakers must lie between min_speakers and max_speakers")
        if 0 < n < num_speakers:
            raise InvalidRequestError(
                f"num_speakers={num_speakers} but the audio has only {n} speech windows"
            )
        return num_speakers, num_speakers, num_speakers
    if min_speakers is not None and 0 < n < min_speakers:
        raise InvalidRequestError(
            f"min_speakers={min_speakers} but the audio has only {n} speech windows"
        )
    lo = min_speakers or 1
    hi = min(max_speakers or n, n) if n else (max_speakers or lo)
    return lo, max(hi, lo), None


def laplacian_spectrum(x: np.ndarray, pruning: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the pruned affinity's normalised Laplacian."""
    n = len(x)
    sim = x @ x.T
    np.fill_diagonal(sim, 0.0)
    keep = max(2, min(n - 1, int(np.ceil(pruning * n))))
    aff = np.zeros_like(sim)
    top = np.argpartition(-sim, keep - 1, axis=1)[:, :keep]
    rows = np.arange(n)[:, None]
    aff[rows, top] = np.maximum(sim[rows, top], 0.0)
    aff = (aff + aff.T) / 2
    d = 1.0 / np.sqrt(np.maximum(aff.sum(axis=1), 1e-10))
    lap = np.eye(n) - d[:, None] * aff * d[None, :]
    w, v = eigh(lap)
    return w, v


def estimate_count(w: np.ndarray, lo: int, hi: int, single_threshold: float) -> int:
    """Speaker count from the Laplacian spectrum within [lo, hi] (see module doc, steps 2-3)."""
    if hi <= 1:
        return 1
    if lo <= 1 and w[1] > single_threshold:
        return 1
    lo = max(lo, 2)
    if lo >= hi:
        return lo
    gaps = np.diff(w[: hi + 1])  # gaps[k-1] = w[k] - w[k-1]: the gap after k eigenvalues
    return lo + int(np.argmax(gaps[lo - 1 : hi]))


def spectral_labels(v: np.ndarray, k: int) -> np.ndarray:
    emb = v[:, :k] / np.maximum(np.linalg.norm(v[:, :k], axis=1, keepdims=True), 1e-10)
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(emb)


def centroid_labels(x: np.ndarray, k: int, voices: np.ndarray, iters: int = 20) -> np.ndarray:
    """Cosine k-means seeded with the k typical voices that most windows are nearest to."""
    nearest = np.argmax(x @ voices.T, axis=1)
    counts = np.bincount(nearest, minlength=len(voices))
    seeds = voices[np.argsort(-counts)[:k]]
    if len(seeds) < k:  # fewer typical voices than speakers: add the least-covered windows
        worst = np.argsort((x @ seeds.T).max(axis=1))[: k - len(seeds)]
        seeds = np.vstack([seeds, x[worst]])
    labels = np.argmax(x @ seeds.T, axis=1)
    for _ in range(iters):
        cents = _centroids(x, labels, k)
        new = np.argmax(x @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    cents = np.zeros((k, x.shape[1]))
    np.add.at(cents, labels, x)
    return cents / np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-10)


def viterbi(scores: np.ndarray, penalty: float) -> np.ndarray:
    """Best label path maximising summed scores minus ``penalty`` per label change."""
    n, k = scores.shape
    back = np.zeros((n, k), dtype=np.int64)
    acc = scores[0].copy()
    for i in range(1, n):
        stay = acc
        best = int(np.argmax(acc))
        switch = acc[best] - penalty
        back[i] = np.where(stay >= switch, np.arange(k), best)
        acc = np.maximum(stay, switch) + scores[i]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmax(acc))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def resegment(
    x: np.ndarray, labels: np.ndarray, k: int, penalty: float, rounds: int = 2
) -> np.ndarray:
    """Viterbi re-labelling against cluster centroids; a cluster left empty disappears."""
    for _ in range(rounds):
        labels = viterbi(x @ _centroids(x, labels, k).T, penalty)
    return labels


def cluster(
    x: np.ndarray,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    config: DiarizationConfig | None = None,
    voices: np.ndarray | None = None,
    mode: str = "ptbr",
) -> np.ndarray:
    """Cluster label per window (time-ordered unit rows from ``normalize`` in ``mode``)."""
    config = config or DiarizationConfig()
    n = len(x)
    lo, hi, fixed = check_counts(n, num_speakers, min_speakers, max_speakers)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if fixed is None and max_speakers is None:
        hi = max(lo, min(hi, config.max_auto_speakers))
    if hi <= 1 or n < 2:
        return np.zeros(n, dtype=np.int64)
    if (fixed or lo) >= n:  # as many speakers as windows
        return np.arange(n)
    single = config.single_speaker_threshold or SINGLE_THRESHOLDS.get(
        (config.kind, mode), DEFAULT_SINGLE
    )
    penalty = config.switch_penalty or SWITCH_PENALTY
    w, v = laplacian_spectrum(x, config.pruning or PRUNING.get(config.kind, 0.25))
    k = fixed or estimate_count(w, lo, min(hi, n - 1), single)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if voices is not None and len(voices):
        labels = centroid_labels(x, k, voices)
    else:
        labels = spectral_labels(v, k)
    if config.resegment:
        smoothed = resegment(x, labels, k, penalty)
        if fixed is None or len(np.unique(smoothed)) == k:  # never lose a requested speaker
            labels = smoothed
    return labels
