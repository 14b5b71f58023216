"""Plain-text export: speaker-labelled paragraphs, or one line per segment without speakers."""

from __future__ import annotations

from transcrevai.formats._common import has_speakers, paragraphs, spoken, stamp
from transcrevai.types import Transcript

MEDIA_TYPE = "text/plain; charset=utf-8"
EXTENSION = ".txt"


def render(transcript: Transcript) -> bytes:
    """``[HH:MM:SS] NAME: text`` paragraphs separated by blank lines when speakers are known
    (consecutive segments of one speaker form one paragraph); otherwise plain lines."""
    if has_speakers(transcript):
        blocks = []
        for para in paragraphs(transcript):
            who = f"{para.speaker}: " if para.speaker else ""
            blocks.append(f"[{stamp(para.start)}] {who}{para.text}")
        body = "\n\n".join(blocks)
    else:
        body = "\n".join(" ".join(seg.text.split()) for seg in spoken(transcript))
    return (body + "\n").encode("utf-8") if body else b""
