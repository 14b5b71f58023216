"""Words -> speakers: attach diarization turns to a transcript.

Rules (one place, so every export and the UI agree):
- a word belongs to the speaker whose turns overlap it the most (summed over that speaker's
  turns); a word no turn overlaps (VAD and Whisper disagree by a few hundred ms at times) takes
  the nearest turn's speaker;
- a segment whose words change speaker is split at each change; the pieces get their text,
  start and end from their words and keep the segment's decoding scores; ids are renumbered;
- a segment without words is attributed as a whole, by the same overlap/nearest rule;
- ``transcript.speakers`` lists the turns' speakers in order of first appearance in time (a
  speaker may have no recognised words), and ``transcript.turns`` holds the turns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from transcrevai.types import Segment, SpeakerTurn, Transcript, Word


class _Turns:
    """Turns as arrays for fast per-interval speaker lookup."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.speakers = list(dict.fromkeys(t.speaker for t in self.turns))
        self.start = np.array([t.start for t in self.turns], dtype=np.float64)
        self.end = np.array([t.end for t in self.turns], dtype=np.float64)
        index = {s: i for i, s in enumerate(self.speakers)}
        self.label = np.array([index[t.speaker] for t in self.turns], dtype=np.int64)

    def speaker_of(self, start: float, end: float) -> str:
        """Max summed overlap; else the turn containing the midpoint; else the nearest turn."""
        overlap = np.minimum(self.end, end) - np.maximum(self.start, start)
        if (overlap > 0).any():
            per_speaker = np.bincount(
                self.label, weights=np.maximum(overlap, 0.0), minlength=len(self.speakers)
            )
            return self.speakers[int(np.argmax(per_speaker))]
        mid = (start + end) / 2
        distance = np.maximum.reduce([self.start - mid, mid - self.end, np.zeros(len(self.end))])
        return self.speakers[int(self.label[int(np.argmin(distance))])]


def _join(words: Sequence[Word]) -> str:
    """Segment text from its words: Whisper words carry their leading space, hand-made may not."""
    if all(w.word[:1].isspace() for w in words[1:]):
        return "".join(w.word for w in words).strip()
    return " ".join(w.word.strip() for w in words if w.word.strip())


def _split(segment: Segment) -> list[Segment]:
    """Runs of consecutive words with one speaker, as segments."""
    runs: list[list[Word]] = []
    for w in segment.words:
        if runs and runs[-1][-1].speaker == w.speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    if len(runs) == 1:
        return [segment.model_copy(update={"speaker": runs[0][0].speaker})]
    return [
        segment.model_copy(
            update={
                "start": run[0].start,
                "end": run[-1].end,
                "text": _join(run),
                "words": run,
                "speaker": run[0].speaker,
            }
        )
        for run in runs
    ]


def assign_speakers(transcript: Transcript, turns: Sequence[SpeakerTurn]) -> Transcript:
    """A copy of ``transcript`` with word/segment speakers, split segments, speakers and turns."""
    out = transcript.model_copy(deep=True)
    if not turns:
        return out
    lookup = _Turns(turns)
    segments: list[Segment] = []
    for seg in out.segments:
        if seg.words:
            for w in seg.words:
                w.speaker = lookup.speaker_of(w.start, w.end)
            segments.extend(_split(seg))
        else:
            seg.speaker = lookup.speaker_of(seg.start, seg.end)
            segments.append(seg)
    for i, seg in enumerate(segments):
        seg.id = i
    out.segments = segments
    out.speakers = lookup.speakers
    out.turns = list(lookup.turns)
    return out
