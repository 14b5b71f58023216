"""Evaluation manifests: (audio file, reference text, speaker, variety) from common layouts.

:func:`load_manifest` recognises, from the header of a CSV/TSV file or the content of a
folder:

- generic: ``audio_path,reference_text[,speaker,variety]`` (comma or tab separated);
  ``../shared/audio/manifest.csv`` is one;
- headerless two-column TSV ``file<TAB>text`` whose first cell names an audio file (LJSpeech /
  TTS-corpus style, e.g. ``transcripts.tsv``);
- CORAA: ``file_path`` and ``text`` columns (``variety`` such as ``pt_br`` when present);
- Common Voice: ``path`` and ``sentence`` columns, audio under ``clips/`` beside the TSV,
  speaker = ``client_id``, variety from ``variant``/``locale``/``accents`` when they say it;
- a folder of audio files each with a same-stem ``.txt`` transcript (MuPe / NURC-SP /
  FLEURS / LapsBM style), or a folder holding ``manifest.csv`` / ``manifest.tsv``.

Relative audio paths resolve against the manifest's folder. Missing columns or audio files
raise :class:`~transcrevai.errors.InvalidRequestError` naming them (paths relative to the
manifest folder), so a broken corpus fails before hours of decoding, not in the middle.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from transcrevai.errors import InvalidRequestError

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".wma"}
)
_MAX_LISTED = 20
_VARIETIES = {
    "pt-br": "pt-BR",
    "pt_br": "pt-BR",
    "ptbr": "pt-BR",
    "br": "pt-BR",
    "pt-pt": "pt-PT",
    "pt_pt": "pt-PT",
    "ptpt": "pt-PT",
}
_VARIETY_WORDS = (
    ("brasil", "pt-BR"),
    ("brazil", "pt-BR"),
    ("portugal", "pt-PT"),
    ("angola", "pt-AF"),
    ("moçambique", "pt-AF"),
    ("mozambique", "pt-AF"),
    ("cabo verde", "pt-AF"),
    ("guiné", "pt-AF"),
)

Row = dict[str, str]


@dataclass(frozen=True)
class ManifestItem:
    """One utterance to score: its audio, what was said, and who/which variety said it."""

    audio_path: Path
    reference: str
    speaker: str | None = None
    variety: str | None = None


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def normalize_variety(value: str | None) -> str | None:
    """Map variety codes and accent descriptions to pt-BR / pt-PT / pt-AF; keep unknowns."""
    value = _clean(value)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in _VARIETIES:
        return _VARIETIES[lowered]
    found = {label for word, label in _VARIETY_WORDS if word in lowered}
    if len(found) == 1:
        return found.pop()
    if found or lowered == "pt":  # several places named, or the bare language code
        return None
    return value


def _read_table(path: Path) -> tuple[list[str], list[Row]]:
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    tab = "\t" in first or path.suffix.lower() == ".tsv"
    reader = csv.reader(
        text.splitlines(),
        delimiter="\t" if tab else ",",
        quoting=csv.QUOTE_NONE if tab else csv.QUOTE_MINIMAL,
    )
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        raise InvalidRequestError(f"manifest {path.name} is empty")
    header = [h.strip() for h in rows[0]]
    return header, [dict(zip(header, r, strict=False)) for r in rows[1:]]


def _require(path: Path, header: list[str], needed: Iterable[str]) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise InvalidRequestError(
            f"manifest {path.name} lacks column(s) {', '.join(missing)}; it has {', '.join(header)}"
        )


def _raise_missing(missing: list[Path], root: Path, what: str) -> None:
    """Raise naming every missing file (relative to ``root``), the first 20 of them in full."""
    if not missing:
        return
    shown = []
    for p in missing[:_MAX_LISTED]:
        try:
            shown.append(str(p.relative_to(root)))
        except ValueError:
            shown.append(p.name)
    more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
    raise InvalidRequestError(f"{len(missing)} {what} missing: {', '.join(shown)}{more}")


def _items(
    path: Path,
    rows: list[Row],
    audio: str,
    text: str,
    speaker: Callable[[Row], str | None],
    variety: Callable[[Row], str | None],
    audio_dir: Path | None = None,
) -> list[ManifestItem]:
    base = audio_dir or path.parent
    items = []
    for number, row in enumerate(rows, start=2):
        rel = _clean(row.get(audio))
        if rel is None:
            raise InvalidRequestError(f"manifest {path.name} line {number}: empty {audio}")
        items.append(
            ManifestItem(
                audio_path=(base / rel).resolve(),
                reference=" ".join((row.get(text) or "").split()),
                speaker=speaker(row),
                variety=variety(row),
            )
        )
    return items


def _load_table(path: Path) -> list[ManifestItem]:
    header, rows = _read_table(path)
    cols = set(header)
    if {"audio_path", "reference_text"} <= cols:
        return _items(
            path,
            rows,
            "audio_path",
            "reference_text",
            lambda r: _clean(r.get("speaker")),
            lambda r: normalize_variety(r.get("variety")),
        )
    if {"file_path", "text"} <= cols:  # CORAA
        return _items(
            path,
            rows,
            "file_path",
            "text",
            lambda r: _clean(r.get("speaker")),
            lambda r: normalize_variety(r.get("variety")),
        )
    if {"path", "sentence"} <= cols:  # Common Voice
        clips = path.parent / "clips"
        return _items(
            path,
            rows,
            "path",
            "sentence",
            lambda r: _clean(r.get("client_id")),
            lambda r: normalize_variety(r.get("variant") or r.get("accents") or r.get("locale")),
            audio_dir=clips if clips.is_dir() else path.parent,
        )
    if len(header) >= 2 and Path(header[0]).suffix.lower() in AUDIO_SUFFIXES:
        rows = [dict(zip(("audio", "text"), header, strict=False))] + [
            {"audio": r[header[0]], "text": r[header[1]]} for r in rows
        ]
        return _items(path, rows, "audio", "text", lambda r: None, lambda r: None)
    _require(path, header, ("audio_path", "reference_text"))
    return []  # unreachable: _require raised


def _load_folder(folder: Path) -> list[ManifestItem]:
    audio = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not audio:
        raise InvalidRequestError(f"folder {folder.name} holds no audio files")
    items = [
        ManifestItem(
            audio_path=p.resolve(),
            reference=" ".join(p.with_suffix(".txt").read_text(encoding="utf-8-sig").split())
            if p.with_suffix(".txt").is_file()
            else "",
        )
        for p in audio
    ]
    missing = [p.with_suffix(".txt") for p in audio if not p.with_suffix(".txt").is_file()]
    _raise_missing(missing, folder.resolve(), "transcript(s) (same stem, .txt)")
    return items


def load_manifest(path_or_dir: str | Path, check_files: bool = True) -> list[ManifestItem]:
    """Load any supported manifest layout (see module doc), auto-detected."""
    path = Path(path_or_dir)
    if not path.exists():
        raise InvalidRequestError(f"manifest {path.name} does not exist")
    if path.is_dir():
        for name in ("manifest.csv", "manifest.tsv"):
            if (path / name).is_file():
                return load_manifest(path / name, check_files)
        return _load_folder(path)
    items = _load_table(path)
    if check_files:
        missing = [item.audio_path for item in items if not item.audio_path.is_file()]
        _raise_missing(missing, path.parent.resolve(), "audio file(s) listed in the manifest")
    return items
