"""RTTM export (NIST Rich Transcription Time Marked): one SPEAKER line per speaker turn.

The format read by diarization scorers (dscore, pyannote.metrics): whitespace-separated
fields, so file ids and speaker names have their spaces replaced by ``_``.
"""

from __future__ import annotations

import re

from transcrevai.formats._common import file_stem, spoken
from transcrevai.types import Transcript

MEDIA_TYPE = "text/plain; charset=utf-8"
EXTENSION = ".rttm"


def _token(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip()) or "_"


def render(transcript: Transcript) -> bytes:
    """Lines from ``transcript.turns``, else from the speaker-labelled segments.

    Turns without duration carry no speech for a scorer and are left out.
    """
    turns = [(t.start, t.end, t.speaker) for t in transcript.turns]
    if not turns:
        turns = [(s.start, s.end, s.speaker) for s in spoken(transcript) if s.speaker]
    file_id = _token(file_stem(transcript))
    lines = []
    for start, end, label in sorted(turns, key=lambda t: (t[0], t[1])):
        start = max(0.0, start)
        if round(end - start, 3) <= 0:
            continue
        name = _token(transcript.display_speaker(label) or label)
        lines.append(
            f"SPEAKER {file_id} 1 {start:.3f} {end - start:.3f} <NA> <NA> {name} <NA> <NA>"
        )
    return "".join(line + "\n" for line in lines).encode("utf-8")
