"""Helpers shared by the exporters: timestamps, speaker order, paragraphs, tier intervals.

Kept here so every format renders times, renames and speaker grouping the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from transcrevai.types import Segment, Transcript


def to_ms(seconds: float) -> int:
    """Seconds → whole milliseconds (negative times clamp to 0)."""
    return max(0, round(seconds * 1000))


def _hms_ms(seconds: float) -> tuple[int, int, int, int]:
    ms = to_ms(seconds)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return hours, minutes, secs, ms


def clock(seconds: float, sep: str = ".") -> str:
    """``HH:MM:SS<sep>mmm`` (``,`` for SRT, ``.`` for WebVTT)."""
    h, m, s, ms = _hms_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def stamp(seconds: float) -> str:
    """``HH:MM:SS`` (whole seconds, rounded down) for reading transcripts."""
    h, m, s, _ = _hms_ms(seconds)
    return f"{h:02d}:{m:02d}:{s:02d}"


def spoken(transcript: Transcript) -> Iterator[Segment]:
    """Segments that carry text, in time order (empty segments say nothing to export)."""
    segments = sorted(transcript.segments, key=lambda s: (s.start, s.end))
    return (s for s in segments if s.text.strip())


def has_speakers(transcript: Transcript) -> bool:
    return any(s.speaker for s in transcript.segments)


def speaker_order(transcript: Transcript) -> list[str]:
    """Display names, unique, in the transcript's speaker order then order of appearance."""
    labels = list(transcript.speakers) + [s.speaker for s in spoken(transcript) if s.speaker]
    names: list[str] = []
    for label in labels:
        name = transcript.display_speaker(label)
        if name and name not in names:
            names.append(name)
    return names


def file_stem(transcript: Transcript, default: str = "audio") -> str:
    """Source file name without folders or extension, whitespace → ``_`` (RTTM file ids)."""
    if not transcript.source_name:
        return default
    stem = PurePath(transcript.source_name.replace("\\", "/")).stem
    stem = re.sub(r"\s+", "_", stem.strip())
    return stem or default


def extent_ms(transcript: Transcript) -> int:
    """The file's end: the audio duration, stretched if a timestamp overshoots it, and at
    least 1 ms because Praat needs xmax > xmin even for an empty transcript."""
    ends = [to_ms(transcript.duration)]
    for seg in transcript.segments:
        ends.append(to_ms(seg.end))
        ends += [to_ms(w.end) for w in seg.words]
    return max(max(ends), 1)


@dataclass(frozen=True)
class Paragraph:
    start: float
    end: float
    speaker: str | None
    text: str


def paragraphs(transcript: Transcript) -> list[Paragraph]:
    """Consecutive segments of one (display) speaker merged into one paragraph."""
    out: list[Paragraph] = []
    for seg in spoken(transcript):
        name = transcript.display_speaker(seg.speaker)
        text = " ".join(seg.text.split())
        if out and name is not None and out[-1].speaker == name:
            last = out[-1]
            out[-1] = Paragraph(last.start, max(last.end, seg.end), name, f"{last.text} {text}")
        else:
            out.append(Paragraph(seg.start, seg.end, name, text))
    return out


Interval = tuple[int, int, str]


def fit_intervals(items: Iterable[Interval], limit_ms: int) -> list[Interval]:
    """Make ``(start_ms, end_ms, label)`` items a valid tier: sorted, inside ``[0, limit]``,
    no overlaps, each at least 1 ms long.

    Praat and ELAN both reject overlapping or empty intervals on one tier, while diarized
    speech overlaps and Whisper emits zero-length words. An item starting inside the previous
    one is clipped to start where that one ends; an item wholly covered by it is merged into
    its label (no text is lost); a zero-length item is widened to 1 ms.
    """
    limit_ms = max(limit_ms, 1)
    out: list[Interval] = []
    for start, end, label in sorted(items, key=lambda i: (i[0], i[1])):
        label = " ".join(label.split())
        if not label:
            continue
        start = min(max(start, 0), limit_ms)
        end = min(max(end, start), limit_ms)
        prev_end = out[-1][1] if out else 0
        if out and start < prev_end:
            if end <= prev_end:
                out[-1] = _merged(out[-1], label)
                continue
            start = prev_end
        if end - start < 1:
            end = start + 1
        if end > limit_ms:  # zero-length at the very end: take the last free millisecond
            start, end = max(prev_end, limit_ms - 1), limit_ms
            if end - start < 1:
                out[-1] = _merged(out[-1], label)
                continue
        out.append((start, end, label))
    return out


def _merged(interval: Interval, label: str) -> Interval:
    return interval[0], interval[1], f"{interval[2]} {label}"


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name`` or ``name (2)``, ``name (3)``… so tier names never collide."""
    used = set(taken)
    if name not in used:
        return name
    n = 2
    while f"{name} ({n})" in used:
        n += 1
    return f"{name} ({n})"
