"""Tab-separated export in Whisper's ``tsv`` layout plus a speaker column.

Columns: ``start``, ``end`` (integer milliseconds, as openai-whisper writes them, so
spreadsheets keep them exact), ``speaker`` (display name or empty) and ``text``.
"""

from __future__ import annotations

from transcrevai.formats._common import spoken, to_ms
from transcrevai.types import Transcript

MEDIA_TYPE = "text/tab-separated-values; charset=utf-8"
EXTENSION = ".tsv"


def _cell(text: str) -> str:
    """Tabs and line breaks would break the row structure; they become single spaces."""
    return " ".join(text.split())


def render(transcript: Transcript) -> bytes:
    rows = ["start\tend\tspeaker\ttext"]
    for seg in spoken(transcript):
        speaker = _cell(transcript.display_speaker(seg.speaker) or "")
        start = to_ms(seg.start)
        rows.append(f"{start}\t{max(start, to_ms(seg.end))}\t{speaker}\t{_cell(seg.text)}")
    return ("\n".join(rows) + "\n").encode("utf-8")
