"""WebVTT export: ``WEBVTT`` header, ``HH:MM:SS.mmm`` cues, ``<v NAME>`` voice spans."""

from __future__ import annotations

from transcrevai.formats._common import clock
from transcrevai.formats._cues import build_cues
from transcrevai.types import Transcript

MEDIA_TYPE = "text/vtt; charset=utf-8"
EXTENSION = ".vtt"


def escape(text: str) -> str:
    """WebVTT cue text must not hold raw ``&``, ``<`` or ``>`` (they start markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(transcript: Transcript) -> bytes:
    """One cue per subtitle; the speaker rides in a voice span, not in the visible text."""
    out = ["WEBVTT", ""]
    for cue in build_cues(transcript, name_prefix=False):
        lines = [escape(line) for line in cue.lines]
        if cue.speaker:
            lines[0] = f"<v {escape(cue.speaker)}>{lines[0]}"
            lines[-1] += "</v>"
        times = f"{clock(cue.start_ms / 1000)} --> {clock(cue.end_ms / 1000)}"
        out += [times, *lines, ""]
    return "\n".join(out).encode("utf-8")
