"""Export formats: each file re-read by an independent parser (srt, webvtt-py, python-docx,
praatio, pympi-ling, lxml) and checked against the hand-built transcript it came from."""

from __future__ import annotations

import html
import io
import itertools
import json
import re
from pathlib import Path
from typing import get_args

import pytest
import srt
import webvtt
from docx import Document
from lxml import etree
from praatio import textgrid as tgio
from pympi.Elan import Eaf

from transcrevai.errors import InvalidRequestError
from transcrevai.formats import FORMATS, export
from transcrevai.formats._common import fit_intervals
from transcrevai.types import OutputFormat, Segment, SpeakerTurn, Transcript, Word

LONG = (
    "A ação de hoje é muito importante para você e para todos nós que trabalhamos aqui "
    "no projeto de transcrição, com pão de queijo e café coado na hora."
)
NO_WORDS = (
    "E a reunião de amanhã? Eu não sei se vou conseguir chegar a tempo por causa do "
    "trânsito na avenida, então comecem sem mim."
)
RENAME = {"SPEAKER_01": "Dona Conceição"}
Turns = list[tuple[str | None, str]]


def _words(text: str, start: float, step: float = 0.4) -> list[Word]:
    return [
        Word(word=" " + w, start=start + i * step, end=start + i * step + step * 0.8)
        for i, w in enumerate(text.split())
    ]


def conversation(names: dict[str, str] | None = None, turns: bool = True) -> Transcript:
    """Two speakers; one long segment with word times and one without, both forcing cue splits."""
    long_end = 5.0 + 0.4 * len(LONG.split())
    segs = [
        (0.0, 2.5, " Bom dia, você já tomou café?", "SPEAKER_00", True),
        (2.8, 4.6, " Já, obrigada. Comi pão com manteiga.", "SPEAKER_01", True),
        (5.0, long_end, LONG, "SPEAKER_00", True),
        (long_end + 0.5, long_end + 8.0, NO_WORDS, "SPEAKER_01", False),
        (
            long_end + 8.2,
            long_end + 9.5,
            " Combinado:\tàs nove & meia\n<em ponto>.",
            "SPEAKER_00",
            False,
        ),
    ]
    t = Transcript(
        language="pt",
        duration=40.0,
        source_name="gravações/entrevista ação.wav",
        speakers=["SPEAKER_00", "SPEAKER_01"],
        speaker_names=names or {},
        segments=[
            Segment(id=i, start=s, end=e, text=x, speaker=sp, words=_words(x, s) if w else [])
            for i, (s, e, x, sp, w) in enumerate(segs)
        ],
    )
    if turns:
        t.turns = [
            SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker or "") for s in t.segments
        ]
    t.rebuild_text()
    return t


def norm(text: str) -> str:
    return " ".join(text.split())


def merged(pairs: Turns) -> Turns:
    """Consecutive pieces of one speaker joined: the shape every format should agree on."""
    out: Turns = []
    for who, text in pairs:
        if out and out[-1][0] == who and who is not None:
            out[-1] = (who, norm(out[-1][1] + " " + text))
        else:
            out.append((who, norm(text)))
    return out


def expected(t: Transcript) -> Turns:
    return merged([(t.display_speaker(s.speaker), s.text) for s in t.segments])


# ---- independent readers: file bytes → [(speaker, text)] -------------------------------------

SRT_BLOCK = re.compile(
    r"(\d+)\n(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})\n"
    r"([^\n]+(?:\n[^\n]+)?)"
)


def strict_srt(data: bytes) -> list[tuple[int, int, int, list[str]]]:
    """Every block must be number, time line, one or two text lines; nothing else."""
    text = data.decode("utf-8")
    if not text:
        return []
    assert text.endswith("\n\n") and not text.endswith("\n\n\n")
    assert srt.compose(list(srt.parse(text)), reindex=False) == text  # canonical layout
    cues = []
    for block in text.rstrip("\n").split("\n\n"):
        m = SRT_BLOCK.fullmatch(block)
        assert m, f"bad SRT block: {block!r}"
        g = [int(x) for x in m.groups()[:9]]
        start = ((g[1] * 60 + g[2]) * 60 + g[3]) * 1000 + g[4]
        end = ((g[5] * 60 + g[6]) * 60 + g[7]) * 1000 + g[8]
        cues.append((g[0], start, end, m.group(10).split("\n")))
    return cues


def _cue_speaker(line: str) -> tuple[str | None, str]:
    m = re.match(r"\[(.+?)\] (.*)", line)
    return (m.group(1), m.group(2)) if m else (None, line)


def read_srt(data: bytes) -> Turns:
    subs = list(srt.parse(data.decode("utf-8")))
    return merged([_cue_speaker(" ".join(s.content.split("\n"))) for s in subs])


def read_vtt(data: bytes) -> Turns:
    caps = webvtt.from_string(data.decode("utf-8")).captions
    return merged([(c.voice, html.unescape(c.text.replace("\n", " "))) for c in caps])


def read_json(data: bytes) -> Turns:
    return merged([(s["speaker"], s["text"]) for s in json.loads(data)["segments"]])


def read_txt(data: bytes) -> Turns:
    paras = [p for p in data.decode("utf-8").split("\n\n") if p.strip()]
    out: Turns = []
    for p in paras:
        m = re.fullmatch(r"\[\d\d:\d\d:\d\d\] (.+?): (.*)", p.strip(), re.DOTALL)
        assert m, p
        out.append((m.group(1), m.group(2)))
    return out


def read_tsv(data: bytes) -> Turns:
    rows = [r.split("\t") for r in data.decode("utf-8").splitlines()]
    assert rows[0] == ["start", "end", "speaker", "text"]
    return merged([(r[2] or None, r[3]) for r in rows[1:]])


def read_docx(data: bytes) -> Turns:
    paras = [p.text for p in Document(io.BytesIO(data)).paragraphs]
    stamped = [re.fullmatch(r"\[\d\d:\d\d:\d\d\] (.+?): (.*)", p) for p in paras]
    return [(m.group(1), m.group(2)) for m in stamped if m]


def _tier_turns(tiers: dict[str, list[tuple[float, float, str]]]) -> Turns:
    items = sorted((s, e, name, text) for name, ivs in tiers.items() for s, e, text in ivs)
    return merged([(name, text) for _, _, name, text in items])


def read_textgrid(data: bytes, tmp_path: Path) -> tgio.Textgrid:
    path = tmp_path / "t.TextGrid"
    path.write_bytes(data)
    return tgio.openTextgrid(str(path), includeEmptyIntervals=False)


def read_eaf(data: bytes, tmp_path: Path) -> Eaf:
    path = tmp_path / "t.eaf"
    path.write_bytes(data)
    return Eaf(str(path))


def read_turns(fmt: str, data: bytes, tmp_path: Path) -> Turns:
    if fmt == "textgrid":
        grid = read_textgrid(data, tmp_path)
        names = [n for n in grid.tierNames if n != "words"]
        return _tier_turns({n: list(grid.getTier(n).entries) for n in names})
    if fmt == "eaf":
        eaf = read_eaf(data, tmp_path)
        return _tier_turns({n: eaf.get_annotation_data_for_tier(n) for n in eaf.get_tier_names()})
    readers = {
        "json": read_json,
        "txt": read_txt,
        "srt": read_srt,
        "vtt": read_vtt,
        "tsv": read_tsv,
        "docx": read_docx,
    }
    return readers[fmt](data)


TURN_FORMATS = [f for f in FORMATS if f != "rttm"]


# ---- tests ----------------------------------------------------------------------------------


def test_formats_match_the_output_format_type() -> None:
    assert set(FORMATS) == set(get_args(OutputFormat))


def test_unknown_format_lists_valid_ones() -> None:
    with pytest.raises(InvalidRequestError) as err:
        export(conversation(), "pdf")
    assert err.value.status == 400
    assert all(f in err.value.message for f in FORMATS)
    assert export(conversation(), " .SRT").extension == ".srt"


@pytest.mark.parametrize("fmt", TURN_FORMATS)
def test_turns_and_renames_reach_every_format(fmt: str, tmp_path: Path) -> None:
    t = conversation(RENAME)
    result = export(t, fmt)
    got = read_turns(fmt, result.content, tmp_path)
    assert got == expected(t)
    assert ("Dona Conceição", norm(NO_WORDS)) in got
    assert result.extension.startswith(".") and result.media_type
    if fmt not in ("json", "docx"):
        text = result.content.decode("utf-8")
        assert "ação" in text and "você" in text and "pão" in text
        assert "SPEAKER_01" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_transcript_gives_a_valid_empty_file(fmt: str, tmp_path: Path) -> None:
    data = export(Transcript(), fmt).content
    if fmt == "rttm":
        assert data == b""
    else:
        assert read_turns(fmt, data, tmp_path) == []
    if fmt == "vtt":
        assert data.startswith(b"WEBVTT")


def test_srt_cues_are_valid_short_and_split_on_word_times() -> None:
    t = conversation()
    cues = strict_srt(export(t, "srt").content)
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
    assert all(c[2] > c[1] for c in cues)
    assert [c[1] for c in cues] == sorted(c[1] for c in cues)
    assert all(1 <= len(c[3]) <= 2 and all(len(x) <= 42 for x in c[3]) for c in cues)
    long_seg = t.segments[2]
    long_cues = [c for c in cues if long_seg.start * 1000 <= c[1] < long_seg.end * 1000]
    assert len(long_cues) >= 3
    assert long_cues[0][1] == round(long_seg.words[0].start * 1000)
    assert long_cues[-1][2] == round(long_seg.words[-1].end * 1000)
    word_edges = {round(w.start * 1000) for w in long_seg.words}
    assert all(c[1] in word_edges for c in long_cues)
    assert all(c[3][0].startswith("[SPEAKER_00] ") for c in long_cues)
    # the segment without word times is split proportionally inside its own span
    seg = t.segments[3]
    mine = [c for c in cues if c[3][0].startswith("[SPEAKER_01]") and c[1] >= seg.start * 1000]
    assert len(mine) >= 2 and mine[-1][2] == round(seg.end * 1000)
    assert [c[1] for c in mine] == sorted({c[1] for c in mine})


def test_vtt_structure_voice_tags_and_escaping() -> None:
    text = export(conversation(RENAME), "vtt").content.decode("utf-8")
    head, *blocks = text.rstrip("\n").split("\n\n")
    assert head == "WEBVTT"
    stamp = r"\d{2}:[0-5]\d:[0-5]\d\.\d{3}"
    for block in blocks:
        times, *lines = block.split("\n")
        assert re.fullmatch(f"{stamp} --> {stamp}", times)
        assert 1 <= len(lines) <= 2
        assert re.match(r"<v (SPEAKER_00|Dona Conceição)>", lines[0])
        visible = [re.sub(r"</?v[^>]*>", "", x) for x in lines]
        assert all(len(html.unescape(x)) <= 42 for x in visible)
        assert all("<" not in x and ">" not in x and "-->" not in x for x in visible)
    assert "&amp; meia &lt;em ponto&gt;." in text


def test_tsv_rows_are_milliseconds_and_one_line_each() -> None:
    t = conversation()
    rows = export(t, "tsv").content.decode("utf-8").splitlines()
    assert rows[0] == "start\tend\tspeaker\ttext" and len(rows) == 1 + len(t.segments)
    for row, seg in zip(rows[1:], t.segments, strict=True):
        start, end, speaker, text = row.split("\t")
        assert (int(start), int(end)) == (round(seg.start * 1000), round(seg.end * 1000))
        assert speaker == seg.speaker and text == norm(seg.text)


def test_rttm_lines_from_turns_with_safe_names() -> None:
    t = conversation(RENAME)
    lines = export(t, "rttm").content.decode("utf-8").splitlines()
    assert len(lines) == len(t.turns)
    for line, turn in zip(lines, t.turns, strict=True):
        f = line.split(" ")
        assert len(f) == 10 and f[0] == "SPEAKER" and f[1] == "entrevista_ação" and f[2] == "1"
        assert float(f[3]) == pytest.approx(turn.start, abs=1e-3)
        assert float(f[4]) == pytest.approx(turn.end - turn.start, abs=1e-3)
        assert re.fullmatch(r"\d+\.\d{3}", f[3]) and re.fullmatch(r"\d+\.\d{3}", f[4])
        assert f[7] == {"SPEAKER_00": "SPEAKER_00", "SPEAKER_01": "Dona_Conceição"}[turn.speaker]
        assert f[5] == f[6] == f[8] == f[9] == "<NA>"
    # without diarization turns the speaker-labelled segments stand in
    no_turns = conversation(RENAME, turns=False)
    assert export(no_turns, "rttm").content.decode("utf-8").splitlines() == lines


def test_docx_header_and_turns() -> None:
    doc = Document(io.BytesIO(export(conversation(RENAME), "docx").content))
    texts = [p.text for p in doc.paragraphs]
    title_style = doc.paragraphs[0].style
    assert texts[0] == "Transcrição" and title_style is not None and title_style.name == "Title"
    assert "Arquivo: gravações/entrevista ação.wav" in texts
    assert "Duração: 00:00:40" in texts
    assert any(re.fullmatch(r"Data: \d{4}-\d\d-\d\d \d\d:\d\d", x) for x in texts)
    assert "Falantes: SPEAKER_00, Dona Conceição" in texts
    assert "[00:00:02] Dona Conceição: Já, obrigada. Comi pão com manteiga." in texts


def test_textgrid_tiers_words_and_extent(tmp_path: Path) -> None:
    t = conversation(RENAME)
    grid = read_textgrid(export(t, "textgrid").content, tmp_path)
    assert grid.tierNames == ("SPEAKER_00", "Dona Conceição", "words")
    assert grid.maxTimestamp == 40.0
    for seg in t.segments:
        tier = grid.getTier(t.display_speaker(seg.speaker) or "")
        assert (seg.start, seg.end, norm(seg.text)) in [tuple(e) for e in tier.entries]
    words = grid.getTier("words").entries
    assert [w.label for w in words] == [w.word.strip() for s in t.segments for w in s.words]
    assert words[0].start == 0.0 and words[0].end == pytest.approx(0.32)


def _eaf_structure(data: bytes) -> list[tuple[str, int, int, str]]:
    """Structural rules of EAF 3.0 that ELAN relies on; returns (tier, start, end, value)."""
    root = etree.fromstring(data)
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}"
    assert root.tag == "ANNOTATION_DOCUMENT"
    assert root.get("FORMAT") == root.get("VERSION") == "3.0"
    assert root.get(f"{xsi}noNamespaceSchemaLocation") == "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
    order = ["HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE", "CONSTRAINT"]
    ranks = [order.index(child.tag) for child in root]
    assert ranks == sorted(ranks) and ranks[:2] == [0, 1]
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media is not None and media.get("MEDIA_URL") and media.get("MIME_TYPE")
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    values = [int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")]
    assert values == sorted(values) and len(slots) == len(values)
    types = {lt.get("LINGUISTIC_TYPE_ID") for lt in root.iter("LINGUISTIC_TYPE")}
    ids = [a.get("ANNOTATION_ID") for a in root.iter("ALIGNABLE_ANNOTATION")]
    assert len(set(ids)) == len(ids)
    assert root.findtext("HEADER/PROPERTY[@NAME='lastUsedAnnotationId']") == str(len(ids))
    out = []
    for tier in root.iter("TIER"):
        assert tier.get("LINGUISTIC_TYPE_REF") in types
        spans = []
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            start, end = slots[ann.get("TIME_SLOT_REF1")], slots[ann.get("TIME_SLOT_REF2")]
            assert start < end
            spans.append((start, end))
            out.append((tier.get("TIER_ID"), start, end, ann.findtext("ANNOTATION_VALUE")))
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    return out


def test_eaf_structure_and_pympi_round_trip(tmp_path: Path) -> None:
    t = conversation(RENAME)
    data = export(t, "eaf").content
    got = _eaf_structure(data)
    want = [
        (t.display_speaker(s.speaker), round(s.start * 1000), round(s.end * 1000), norm(s.text))
        for s in t.segments
    ]
    assert sorted(got, key=lambda x: x[1]) == want
    eaf = read_eaf(data, tmp_path)
    assert set(eaf.get_tier_names()) == {"SPEAKER_00", "Dona Conceição"}
    assert eaf.get_parameters_for_tier("Dona Conceição")["PARTICIPANT"] == "Dona Conceição"
    assert [(s, e, v) for _, s, e, v in want if _ == "SPEAKER_00"] == sorted(
        eaf.get_annotation_data_for_tier("SPEAKER_00")
    )


URL = "https://exemplo.gov.br/transcricoes/sessao-plenaria-2024-ordem-do-dia"


def awkward() -> Transcript:
    """Overlapping speakers, a zero-length segment, an over-wide token, a very long name."""
    return Transcript(
        duration=10.0,
        speaker_names={"SPEAKER_00": "Excelentíssima Senhora Presidenta da Mesa"},
        segments=[
            Segment(start=0.0, end=4.0, text=f"Veja em {URL} por favor.", speaker="SPEAKER_00"),
            Segment(
                start=3.0,
                end=5.0,
                text="Com licença, posso?",
                speaker="SPEAKER_01",
                words=[
                    Word(word=" Com", start=3.0, end=3.3),
                    Word(word=" licença,", start=3.2, end=3.8),
                    Word(word=" posso?", start=3.8, end=3.8),
                ],
            ),
            Segment(start=6.0, end=6.0, text="Sim.", speaker="SPEAKER_00"),
            Segment(start=6.2, end=7.0, text="Também.", speaker="SPEAKER_00"),
            Segment(start=8.0, end=9.0, text="   ", speaker="SPEAKER_01"),
        ],
    )


def test_awkward_transcript_stays_valid(tmp_path: Path) -> None:
    t = awkward()
    cues = strict_srt(export(t, "srt").content)
    assert all(c[2] > c[1] and all(len(x) <= 42 for x in c[3]) for c in cues)
    assert cues[0][3][0].startswith("[Excelentíssima Senh…] ")
    shown = "".join(_cue_speaker(c[3][0])[1] + "".join(c[3][1:]) for c in cues)
    assert f"em{URL} por" in shown  # the over-wide token is cut across lines, not re-spaced
    assert next(c for c in cues if "Sim." in c[3][0])[2] == 6200  # zero-length: shown until next
    grid = read_textgrid(export(t, "textgrid").content, tmp_path)
    for tier in grid.tiers:
        entries = tier.entries
        assert all(a.end <= b.start for a, b in itertools.pairwise(entries))
        assert all(e.end > e.start for e in entries)
    assert [tuple(e) for e in grid.getTier("words").entries] == [
        (3.0, 3.3, "Com"),
        (3.3, 3.8, "licença,"),  # overlapping start clipped
        (3.8, 3.801, "posso?"),  # zero-length widened to 1 ms
    ]
    _eaf_structure(export(t, "eaf").content)
    assert len(read_eaf(export(t, "eaf").content, tmp_path).get_tier_names()) == 2
    # consecutive segments of one speaker form one paragraph
    para = "[00:00:06] Excelentíssima Senhora Presidenta da Mesa: Sim. Também."
    assert para in export(t, "txt").content.decode("utf-8").splitlines()
    assert para in [p.text for p in Document(io.BytesIO(export(t, "docx").content)).paragraphs]


def test_without_speakers_lines_and_segments_tier(tmp_path: Path) -> None:
    t = conversation()
    for seg in t.segments:
        seg.speaker = None
    t.speakers, t.turns = [], []
    lines = export(t, "txt").content.decode("utf-8").splitlines()
    assert lines == [norm(s.text) for s in t.segments]
    assert "[" not in export(t, "srt").content.decode("utf-8").split("\n")[2]
    assert b"<v " not in export(t, "vtt").content
    assert export(t, "rttm").content == b""
    grid = read_textgrid(export(t, "textgrid").content, tmp_path)
    assert grid.tierNames == ("words", "segments")
    assert [e.label for e in grid.getTier("segments").entries] == lines
    assert read_eaf(export(t, "eaf").content, tmp_path).get_tier_names() == {"segments": 0}.keys()


def test_json_holds_the_documented_fields() -> None:
    data = export(conversation(RENAME), "json").content
    assert "ação".encode() in data
    doc = json.loads(data)
    assert {"text", "language", "duration", "segments", "speakers", "variety"} <= doc.keys()
    assert doc["speakers"] == ["SPEAKER_00", "Dona Conceição"]
    seg = doc["segments"][1]
    assert {"start", "end", "text", "speaker", "words"} <= seg.keys()
    assert {"word", "start", "end", "probability", "speaker"} <= seg["words"][0].keys()
    assert seg["speaker"] == "Dona Conceição" and doc["speaker_names"] == RENAME


def test_fit_intervals_clips_merges_and_widens() -> None:
    items = [
        (0, 1000, "a"),
        (500, 1500, "b"),
        (600, 900, "c"),
        (2000, 2000, "d"),
        (3000, 3000, "e"),
    ]
    assert fit_intervals(items, 3000) == [
        (0, 1000, "a"),
        (1000, 1500, "b c"),
        (2000, 2001, "d"),
        (2999, 3000, "e"),
    ]
    assert fit_intervals([(10, 20, "x"), (20, 20, "y"), (20, 20, "z")], 21) == [
        (10, 20, "x"),
        (20, 21, "y z"),
    ]
    assert fit_intervals([(-50, 99999, " um  dois "), (0, 0, "  ")], 500) == [(0, 500, "um dois")]
