"""Diarization error rate (NIST md-eval definition) and RTTM reading/writing.

Time is cut at every reference, hypothesis and collar boundary; each piece counts with its
duration. In a piece with ``n_ref`` reference and ``n_hyp`` hypothesis speakers:
total += n_ref, missed += max(0, n_ref - n_hyp), false alarm += max(0, n_hyp - n_ref),
confusion += min(n_ref, n_hyp) - n_correct, where n_correct counts the reference speakers
whose mapped hypothesis speaker is also active. The mapping is the one-to-one assignment
maximising total co-occurrence (Hungarian method, ``scipy.optimize.linear_sum_assignment``)
over the scored time, so labels are free: a permuted hypothesis scores 0.

``collar`` removes ±collar seconds around every reference turn's start and end (md-eval's
``-c 0.25``; pyannote.metrics' ``collar`` is the full width, so ours 0.25 = its 0.5).
``skip_overlap`` removes time where two or more reference speakers talk. With no scored
reference speech the DER is 0.0 when the hypothesis is silent there too and 1.0 otherwise
(as pyannote.metrics does), instead of a division by zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from transcrevai.errors import InvalidRequestError
from transcrevai.types import SpeakerTurn


@dataclass(frozen=True)
class DERResult:
    """DER and its parts, in seconds of (speaker-weighted) scored time."""

    der: float
    missed: float
    false_alarm: float
    confusion: float
    total: float
    mapping: dict[str, str] = field(default_factory=dict)  # hypothesis label → reference label


def _check(turns: Sequence[SpeakerTurn], side: str) -> list[SpeakerTurn]:
    for t in turns:
        if t.end < t.start or t.start < 0:
            raise InvalidRequestError(
                f"{side} turn {t.speaker} has start {t.start} and end {t.end}: "
                "times must be >= 0 with end >= start"
            )
    return [t for t in turns if t.end > t.start]


def _activity(turns: Sequence[SpeakerTurn], bounds: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Per speaker, whether it is active in each elementary interval (bool matrix)."""
    labels = sorted({t.speaker for t in turns})
    index = {s: k for k, s in enumerate(labels)}
    counts = np.zeros((len(bounds), len(labels)), dtype=np.int32)
    for t in turns:
        lo, hi = np.searchsorted(bounds, [t.start, t.end])
        counts[lo, index[t.speaker]] += 1
        counts[hi, index[t.speaker]] -= 1
    active = np.cumsum(counts, axis=0)[:-1] > 0
    return labels, active


def der(
    reference: Sequence[SpeakerTurn],
    hypothesis: Sequence[SpeakerTurn],
    collar: float = 0.25,
    skip_overlap: bool = False,
) -> DERResult:
    """Diarization error rate of ``hypothesis`` against ``reference`` (see module doc)."""
    if collar < 0:
        raise InvalidRequestError(f"collar must be >= 0, not {collar}")
    ref, hyp = _check(reference, "reference"), _check(hypothesis, "hypothesis")
    collars = [(b - collar, b + collar) for t in ref for b in (t.start, t.end)] if collar else []
    points = {p for t in ref + hyp for p in (t.start, t.end)}
    points.update(p for zone in collars for p in zone)
    bounds = np.array(sorted(points), dtype=np.float64)
    if len(bounds) < 2:
        return DERResult(0.0, 0.0, 0.0, 0.0, 0.0)
    durations = np.diff(bounds)
    ref_labels, r_act = _activity(ref, bounds)
    hyp_labels, h_act = _activity(hyp, bounds)
    scored = durations > 0
    if collars:
        in_collar = np.zeros(len(bounds), dtype=np.int32)
        for lo_t, hi_t in collars:
            lo, hi = np.searchsorted(bounds, [lo_t, hi_t])
            in_collar[lo] += 1
            in_collar[hi] -= 1
        scored &= np.cumsum(in_collar)[:-1] == 0
    n_ref = r_act.sum(axis=1)
    n_hyp = h_act.sum(axis=1)
    if skip_overlap:
        scored &= n_ref <= 1
    d = np.where(scored, durations, 0.0)

    cooccurrence = (r_act * d[:, None]).T.astype(np.float64) @ h_act.astype(np.float64)
    mapping: dict[str, str] = {}
    correct = np.zeros(len(d))
    if cooccurrence.size:
        rows, cols = linear_sum_assignment(cooccurrence, maximize=True)
        for r, h in zip(rows, cols, strict=True):
            if cooccurrence[r, h] > 0:
                mapping[hyp_labels[h]] = ref_labels[r]
                correct += r_act[:, r] & h_act[:, h]

    total = float(np.sum(d * n_ref))
    missed = float(np.sum(d * np.maximum(0, n_ref - n_hyp)))
    false_alarm = float(np.sum(d * np.maximum(0, n_hyp - n_ref)))
    confusion = float(np.sum(d * (np.minimum(n_ref, n_hyp) - correct)))
    errors = missed + false_alarm + confusion
    rate = errors / total if total > 0 else (0.0 if errors <= 0 else 1.0)
    return DERResult(rate, missed, false_alarm, confusion, total, mapping)


def read_rttm(path: str | Path) -> dict[str, list[SpeakerTurn]]:
    """SPEAKER lines of an RTTM file, grouped by file id (other line types are skipped)."""
    turns: dict[str, list[SpeakerTurn]] = {}
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        try:
            start, duration = float(fields[3]), float(fields[4])
            speaker = fields[7]
        except (IndexError, ValueError) as exc:
            raise InvalidRequestError(
                f"{Path(path).name} line {number}: not an RTTM SPEAKER line: {line.strip()!r}"
            ) from exc
        turns.setdefault(fields[1], []).append(
            SpeakerTurn(start=start, end=start + duration, speaker=speaker)
        )
    return turns


def write_rttm(path: str | Path, turns: Mapping[str, Sequence[SpeakerTurn]]) -> None:
    """Write turns as RTTM SPEAKER lines; whitespace in ids and labels becomes "_"."""
    lines = []
    for file_id, file_turns in turns.items():
        fid = "_".join(file_id.split()) or "file"
        for t in sorted(file_turns, key=lambda t: (t.start, t.end, t.speaker)):
            speaker = "_".join(t.speaker.split())
            lines.append(
                f"SPEAKER {fid} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {speaker} <NA> <NA>"
            )
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
