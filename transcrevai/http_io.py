"""HTTP glue for the service: form fields → validated options, transcripts → responses.

Kept out of service.py so the service class stays a thin map of routes to the pipeline.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from .errors import InvalidRequestError, TranscrevAIError
from .formats import FORMATS, export
from .types import TranscribeOptions, Transcript

logger = logging.getLogger("transcrevai")


def build_options(**fields: Any) -> TranscribeOptions:
    """Form fields → validated options; every problem becomes one readable 400."""
    clean = {k: v for k, v in fields.items() if v is not None and v != ""}
    if isinstance(clean.get("language"), str) and clean["language"].lower() == "auto":
        clean["language"] = None
    try:
        return TranscribeOptions(**clean)
    except ValidationError as exc:
        parts = []
        for e in exc.errors(include_url=False):
            loc = ".".join(str(x) for x in e["loc"])
            parts.append(f"{loc}: {e['msg']}" if loc else e["msg"].removeprefix("Value error, "))
        raise InvalidRequestError("; ".join(parts)) from exc


# form fields shared by POST /transcribe and the async job (same names as TranscribeOptions)
OPTION_FIELDS = (
    "language",
    "task",
    "word_timestamps",
    "beam_size",
    "diarize",
    "num_speakers",
    "min_speakers",
    "max_speakers",
    "initial_prompt",
    "hotwords",
    "temperature",
    "vad_filter",
)


def options_from(fields: dict[str, Any]) -> TranscribeOptions:
    return build_options(**{k: fields[k] for k in OPTION_FIELDS})


def check_format(fmt: str) -> str:
    fmt = (fmt or "json").strip().lower()
    if fmt not in FORMATS:
        raise InvalidRequestError(
            f"Unknown output_format '{fmt}'. Use one of: {', '.join(FORMATS)}."
        )
    return fmt


def error_response(exc: Exception) -> JSONResponse:
    if isinstance(exc, TranscrevAIError):
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)
    logger.exception("unexpected error")
    return JSONResponse(
        {
            "error": {
                "code": "internal_error",
                "message": "An internal error occurred; it has been logged.",
            }
        },
        status_code=500,
    )


def render(transcript: Transcript, fmt: str) -> Response:
    out = export(transcript, fmt)
    if fmt == "json":
        return Response(out.content, media_type="application/json")
    stem = Path(transcript.source_name or "transcript").stem or "transcript"
    disposition = f'inline; filename="{stem}{out.extension}"'
    return Response(
        out.content, media_type=out.media_type, headers={"Content-Disposition": disposition}
    )


def upload_name(path: Path) -> str:
    """The client's file name: BentoML spools uploads to ``tmp<8 random chars><name>``."""
    m = re.match(r"^tmp[A-Za-z0-9_]{8}(.+)$", path.name)
    return m.group(1) if m else path.name


def form_str(form: Any, key: str) -> str | None:
    value = form.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def save_upload(upload: Any) -> Path:
    """Spool an upload to a private temp file (removed by the caller in every case)."""
    fd, name = tempfile.mkstemp(prefix="transcrevai-", suffix=".upload")
    with os.fdopen(fd, "wb") as out:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, out, 1 << 20)
    return Path(name)
