"""OpenAI ``/v1/audio/transcriptions`` mapping: request fields in, response shapes out.

Translation only: the transcript itself comes from the one pipeline. Speaker labels are
added to ``verbose_json`` segments as an extra ``speaker`` field (clients ignore unknown keys).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .errors import InvalidRequestError, NotFoundError
from .formats import export
from .types import Transcript

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
DEFAULT_ALIAS = "whisper-1"
_LANG_NAMES = {
    "pt": "portuguese",
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "nl": "dutch",
    "ca": "catalan",
    "gl": "galician",
    "ja": "japanese",
    "zh": "chinese",
    "ru": "russian",
    "ar": "arabic",
    "hi": "hindi",
    "ko": "korean",
}


def model_list(served: str) -> dict[str, Any]:
    created = int(time.time())
    ids = [DEFAULT_ALIAS] + ([served] if served and served != DEFAULT_ALIAS else [])
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": created, "owned_by": "transcrevai"} for i in ids
        ],
    }


def check_request(
    model: str | None, response_format: str | None, served: str, granularities: list[str]
) -> str:
    fmt = (response_format or "json").strip()
    if fmt not in RESPONSE_FORMATS:
        raise InvalidRequestError(
            f"Invalid response_format '{fmt}'; use one of {', '.join(RESPONSE_FORMATS)}.",
            code="invalid_value",
        )
    if model and model not in (DEFAULT_ALIAS, served):
        raise NotFoundError(
            f"The model '{model}' does not exist; GET /v1/models lists the available ones.",
            code="model_not_found",
        )
    bad = [g for g in granularities if g not in ("word", "segment")]
    if bad:
        raise InvalidRequestError(
            f"Invalid timestamp_granularities: {', '.join(bad)} (use word and/or segment).",
            code="invalid_value",
        )
    if granularities and fmt != "verbose_json":
        raise InvalidRequestError(
            "timestamp_granularities requires response_format=verbose_json.", code="invalid_value"
        )
    return fmt


def render(transcript: Transcript, fmt: str, granularities: list[str]) -> tuple[bytes, str]:
    if fmt == "text":
        return (transcript.text + "\n").encode("utf-8"), "text/plain; charset=utf-8"
    if fmt in ("srt", "vtt"):
        out = export(transcript, fmt)
        return out.content, out.media_type
    if fmt == "json":
        return _json({"text": transcript.text}), "application/json"
    return _json(verbose(transcript, granularities)), "application/json"


def verbose(transcript: Transcript, granularities: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": _LANG_NAMES.get(transcript.language or "", transcript.language or ""),
        "duration": transcript.duration,
        "text": transcript.text,
    }
    if not granularities or "segment" in granularities:
        body["segments"] = [
            {
                "id": s.id,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": " " + s.text,
                "tokens": [],
                "temperature": s.temperature or 0.0,
                "avg_logprob": s.avg_logprob or 0.0,
                "compression_ratio": s.compression_ratio or 0.0,
                "no_speech_prob": s.no_speech_prob or 0.0,
                "speaker": transcript.display_speaker(s.speaker),
            }
            for s in transcript.segments
        ]
    if "word" in granularities:
        body["words"] = [
            {"word": w.word, "start": w.start, "end": w.end}
            for s in transcript.segments
            for w in s.words
        ]
    return body


def openai_error(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")
