"""JSON export: the whole Transcript, with user speaker names applied."""

from __future__ import annotations

import json
from typing import Any

from transcrevai.types import Transcript

MEDIA_TYPE = "application/json"
EXTENSION = ".json"


def render(transcript: Transcript) -> bytes:
    """``model_dump(mode="json")`` with every ``speaker`` field shown by its display name.

    ``speaker_names`` stays in the document, so the original labels remain recoverable.
    """
    data: dict[str, Any] = transcript.model_dump(mode="json")
    show = transcript.display_speaker
    for seg in data["segments"]:
        seg["speaker"] = show(seg["speaker"])
        for word in seg["words"]:
            word["speaker"] = show(word["speaker"])
    for turn in data["turns"]:
        turn["speaker"] = show(turn["speaker"])
    speakers: list[str] = []
    for label in data["speakers"]:
        name = show(label) or label
        if name not in speakers:
            speakers.append(name)
    data["speakers"] = speakers
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
