"""ELAN (.eaf, EAF 3.0) export: one time-aligned tier per speaker.

Written with ``xml.etree`` in the element order of the EAF 3.0 schema (HEADER, TIME_ORDER,
TIER*, LINGUISTIC_TYPE*, CONSTRAINT*). ELAN does not allow overlapping annotations on a tier,
so each tier goes through ``fit_intervals``; time slots are numbered in time order.
"""

from __future__ import annotations

import mimetypes
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import PurePath
from urllib.parse import quote

from transcrevai.formats._common import (
    Interval,
    extent_ms,
    fit_intervals,
    has_speakers,
    speaker_order,
    spoken,
    to_ms,
    unique_name,
)
from transcrevai.types import Transcript

MEDIA_TYPE = "application/xml"
EXTENSION = ".eaf"
SCHEMA = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LINGUISTIC_TYPE = "default-lt"
SEGMENTS_TIER = "segments"
# The four stereotypes ELAN itself declares in every file it saves.
CONSTRAINTS = {
    "Time_Subdivision": "Time subdivision of parent annotation's time interval, no time gaps "
    "allowed within this interval",
    "Symbolic_Subdivision": "Symbolic subdivision of a parent annotation. Annotations refering "
    "to the same parent are ordered",
    "Symbolic_Association": "1-1 association with a parent annotation",
    "Included_In": "Time alignable annotations within the parent annotation's time interval, "
    "gaps are allowed",
}


def _header(root: ET.Element, transcript: Transcript, last_id: int) -> None:
    header = ET.SubElement(root, "HEADER", MEDIA_FILE="", TIME_UNITS="milliseconds")
    name = PurePath((transcript.source_name or "audio").replace("\\", "/")).name or "audio"
    mime = mimetypes.guess_type(name)[0] or "unknown"
    ET.SubElement(
        header,
        "MEDIA_DESCRIPTOR",
        MEDIA_URL=quote(name),
        MIME_TYPE=mime,
        RELATIVE_MEDIA_URL="./" + quote(name),
    )
    ET.SubElement(header, "PROPERTY", NAME="lastUsedAnnotationId").text = str(last_id)


def _tiers(transcript: Transcript) -> list[tuple[str, str | None, list[Interval]]]:
    """``(tier id, participant, fitted intervals)``; speech without a speaker (or a transcript
    without speakers) goes to a ``segments`` tier."""
    limit = extent_ms(transcript)
    by_name: dict[str, list[Interval]] = {name: [] for name in speaker_order(transcript)}
    unlabelled: list[Interval] = []
    for seg in spoken(transcript):
        item = (to_ms(seg.start), to_ms(seg.end), seg.text)
        name = transcript.display_speaker(seg.speaker)
        (by_name[name] if name else unlabelled).append(item)
    taken = [SEGMENTS_TIER]
    tiers: list[tuple[str, str | None, list[Interval]]] = []
    for name, items in by_name.items():
        tier_id = unique_name(name, taken)
        taken.append(tier_id)
        tiers.append((tier_id, name, fit_intervals(items, limit)))
    if unlabelled or not has_speakers(transcript):
        tiers.append((SEGMENTS_TIER, None, fit_intervals(unlabelled, limit)))
    return tiers


def render(transcript: Transcript, now: datetime | None = None) -> bytes:
    now = now or datetime.now().astimezone()
    tiers = _tiers(transcript)
    # Two slots per annotation, ids assigned in time order (ties keep tier order).
    points = sorted(
        (ms, t, a, edge)
        for t, (_, _, items) in enumerate(tiers)
        for a, item in enumerate(items)
        for edge, ms in enumerate(item[:2])
    )
    slot = {(t, a, edge): f"ts{i}" for i, (_, t, a, edge) in enumerate(points, start=1)}

    ET.register_namespace("xsi", XSI)
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": "TranscrevAI",
            "DATE": now.isoformat(timespec="seconds"),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            f"{{{XSI}}}noNamespaceSchemaLocation": SCHEMA,
        },
    )
    n_annotations = sum(len(items) for _, _, items in tiers)
    _header(root, transcript, n_annotations)
    order = ET.SubElement(root, "TIME_ORDER")
    for i, (ms, *_) in enumerate(points, start=1):
        ET.SubElement(order, "TIME_SLOT", TIME_SLOT_ID=f"ts{i}", TIME_VALUE=str(ms))
    next_id = 1
    for t, (tier_id, participant, items) in enumerate(tiers):
        attrs = {"LINGUISTIC_TYPE_REF": LINGUISTIC_TYPE, "TIER_ID": tier_id}
        if participant:
            attrs["PARTICIPANT"] = participant
        tier = ET.SubElement(root, "TIER", attrs)
        for a, (_, _, label) in enumerate(items):
            aligned = ET.SubElement(
                ET.SubElement(tier, "ANNOTATION"),
                "ALIGNABLE_ANNOTATION",
                ANNOTATION_ID=f"a{next_id}",
                TIME_SLOT_REF1=slot[(t, a, 0)],
                TIME_SLOT_REF2=slot[(t, a, 1)],
            )
            ET.SubElement(aligned, "ANNOTATION_VALUE").text = label
            next_id += 1
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        GRAPHIC_REFERENCES="false",
        LINGUISTIC_TYPE_ID=LINGUISTIC_TYPE,
        TIME_ALIGNABLE="true",
    )
    for stereotype, description in CONSTRAINTS.items():
        ET.SubElement(root, "CONSTRAINT", DESCRIPTION=description, STEREOTYPE=stereotype)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
