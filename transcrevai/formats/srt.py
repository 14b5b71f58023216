"""SubRip (.srt) export: numbered cues, ``HH:MM:SS,mmm``, ``[NAME]`` prefix for speakers."""

from __future__ import annotations

from transcrevai.formats._common import clock
from transcrevai.formats._cues import build_cues
from transcrevai.types import Transcript

MEDIA_TYPE = "application/x-subrip; charset=utf-8"
EXTENSION = ".srt"


def render(transcript: Transcript) -> bytes:
    """Cues numbered from 1, each closed by a blank line (as Whisper and the ``srt`` package
    write them); SRT has no speaker markup, so the name leads the first line."""
    blocks = []
    for n, cue in enumerate(build_cues(transcript, name_prefix=True), start=1):
        times = f"{clock(cue.start_ms / 1000, ',')} --> {clock(cue.end_ms / 1000, ',')}"
        blocks.append(f"{n}\n{times}\n" + "\n".join(cue.lines) + "\n\n")
    return "".join(blocks).encode("utf-8")
