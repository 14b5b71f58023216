"""Word (.docx) export with python-docx: a header block, then speaker-labelled paragraphs."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.document import Document as DocxDocument

from transcrevai.formats._common import paragraphs, speaker_order, stamp
from transcrevai.types import Transcript

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSION = ".docx"
TITLE = "Transcrição"


def _field(doc: DocxDocument, name: str, value: str) -> None:
    para = doc.add_paragraph()
    para.add_run(f"{name}: ").bold = True
    para.add_run(value)


def render(transcript: Transcript, now: datetime | None = None) -> bytes:
    """Title, file name, export date, duration (and language/variety/speakers when known),
    then one ``[HH:MM:SS] NAME: text`` paragraph per speaker turn."""
    now = now or datetime.now().astimezone()
    doc = Document()
    doc.core_properties.title = TITLE
    if transcript.language:
        doc.core_properties.language = transcript.language
    doc.add_heading(TITLE, level=0)
    _field(doc, "Arquivo", transcript.source_name or "—")
    _field(doc, "Data", now.strftime("%Y-%m-%d %H:%M"))
    _field(doc, "Duração", stamp(transcript.duration))
    if transcript.language:
        _field(doc, "Idioma", transcript.language)
    if transcript.variety:
        _field(doc, "Variedade", transcript.variety.label)
    names = speaker_order(transcript)
    if names:
        _field(doc, "Falantes", ", ".join(names))
    for para in paragraphs(transcript):
        out = doc.add_paragraph()
        head = f"[{stamp(para.start)}] " + (f"{para.speaker}: " if para.speaker else "")
        out.add_run(head).bold = True
        out.add_run(para.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
