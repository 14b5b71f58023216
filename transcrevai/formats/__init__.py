"""Export a Transcript to every supported file format (one module per format).

``export(transcript, fmt)`` is the one entry point the service, the CLI and the web page use;
every exporter shows speakers through ``Transcript.display_speaker`` so renames reach all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from transcrevai.errors import InvalidRequestError
from transcrevai.formats import (
    docx_format,
    eaf,
    json_format,
    rttm,
    srt,
    textgrid,
    tsv,
    txt,
    vtt,
)
from transcrevai.types import Transcript

_MODULES: dict[str, ModuleType] = {
    "json": json_format,
    "txt": txt,
    "srt": srt,
    "vtt": vtt,
    "tsv": tsv,
    "rttm": rttm,
    "docx": docx_format,
    "textgrid": textgrid,
    "eaf": eaf,
}
FORMATS: tuple[str, ...] = tuple(_MODULES)


@dataclass(frozen=True)
class ExportResult:
    content: bytes
    media_type: str
    extension: str


def export(transcript: Transcript, fmt: str) -> ExportResult:
    """Render ``transcript`` as ``fmt`` (case-insensitive, a leading dot allowed)."""
    key = fmt.strip().lower().lstrip(".")
    module = _MODULES.get(key)
    if module is None:
        raise InvalidRequestError(
            f"Unknown export format {fmt!r}; valid formats: {', '.join(FORMATS)}"
        )
    render: Callable[[Transcript], bytes] = module.render
    return ExportResult(render(transcript), module.MEDIA_TYPE, module.EXTENSION)


__all__ = ["FORMATS", "ExportResult", "export"]
