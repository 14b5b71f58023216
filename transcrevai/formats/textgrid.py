"""Praat TextGrid export (praatio): a tier per speaker, a ``words`` tier, ``segments`` for
speech without a speaker.

Praat rejects overlapping intervals on a tier, so each tier goes through ``fit_intervals``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from praatio import textgrid as tgio

from transcrevai.formats._common import (
    Interval,
    extent_ms,
    fit_intervals,
    has_speakers,
    speaker_order,
    spoken,
    to_ms,
    unique_name,
)
from transcrevai.types import Transcript

MEDIA_TYPE = "text/plain; charset=utf-8"
EXTENSION = ".TextGrid"
WORDS_TIER = "words"
SEGMENTS_TIER = "segments"


def _tier(name: str, items: Iterable[Interval], limit: int) -> tgio.IntervalTier:
    entries = [(s / 1000, e / 1000, label) for s, e, label in fit_intervals(items, limit)]
    return tgio.IntervalTier(name, entries, 0.0, limit / 1000)


def render(transcript: Transcript) -> bytes:
    limit = extent_ms(transcript)
    segments = list(spoken(transcript))
    by_name: dict[str, list[Interval]] = {name: [] for name in speaker_order(transcript)}
    unlabelled: list[Interval] = []
    for seg in segments:
        item = (to_ms(seg.start), to_ms(seg.end), seg.text)
        name = transcript.display_speaker(seg.speaker)
        (by_name[name] if name else unlabelled).append(item)
    words = [(to_ms(w.start), to_ms(w.end), w.word) for seg in segments for w in seg.words]

    grid = tgio.Textgrid(0.0, limit / 1000)
    names: list[str] = []
    plan = list(by_name.items()) + [(WORDS_TIER, words)]
    if unlabelled or not has_speakers(transcript):
        plan.append((SEGMENTS_TIER, unlabelled))
    for name, items in plan:
        tier_name = unique_name(name, names)
        names.append(tier_name)
        grid.addTier(_tier(tier_name, items, limit))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.TextGrid"
        grid.save(str(path), format="long_textgrid", includeBlankSpaces=True)
        return path.read_bytes()
