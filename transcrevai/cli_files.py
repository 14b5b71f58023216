"""Which files the CLI reads and where it writes: discovery, manifests, atomic outputs, markers.

Outputs are written to a temporary sibling and renamed into place, and a batch records a small
completion marker only after every output of a file is in place, so an interrupted run never
leaves a half-written transcript and a re-run can trust what it finds.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MEDIA_EXTENSIONS = frozenset(
    "wav wave mp3 m4a m4b aac flac ogg oga opus spx wma aif aiff aifc amr caf ac3 "
    "webm mp4 m4v mov mkv avi 3gp 3g2 mpeg mpg mts m2ts ts wmv flv".split()
)
STATE_DIR = ".transcrevai"  # hidden folder under OUT with one completion marker per input
TMP_SUFFIX = ".transcrevai-tmp"


@dataclass(frozen=True)
class Item:
    """One input file and the extension-less path its outputs share."""

    source: Path
    label: str  # how the file is named in messages (relative to the input folder)
    out_base: Path
    marker: Path | None = None

    def output(self, extension: str) -> Path:
        return self.out_base.with_name(self.out_base.name + extension)


@cache
def extension(fmt: str) -> str:
    """The file extension (with its dot) the shared exporter uses for ``fmt``."""
    from .formats import export
    from .types import Transcript

    return export(Transcript(), fmt).extension


class InputError(Exception):
    """A bad input path or manifest: reported as one line with exit code 2."""


def _is_media(name: str) -> bool:
    return Path(name).suffix.lower().lstrip(".") in MEDIA_EXTENSIONS


def discover(root: Path, exclude: Path | None = None) -> list[Path]:
    """Media files under ``root`` by extension, hidden files and folders skipped, sorted."""
    found = []
    skip = exclude.resolve() if exclude is not None else None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() != skip
        )
        for name in filenames:
            if not name.startswith(".") and _is_media(name):
                found.append(here / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_manifest(path: Path) -> list[Path]:
    """First column of a CSV/TSV manifest; a header row and ``#`` comments are skipped.

    Relative paths are read relative to the manifest's folder. Listed files that do not
    exist are kept: they are reported as failures, not silently dropped.
    """
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh, delimiter=delimiter) if r and r[0].strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read manifest {path}: {exc}") from exc
    paths = []
    for i, row in enumerate(rows):
        cell = row[0].strip()
        if cell.startswith("#"):
            continue
        p = Path(cell).expanduser()
        p = p if p.is_absolute() else path.parent / p
        if i == 0 and not p.exists() and not _is_media(cell):
            continue  # a header such as "audio_path"
        paths.append(p)
    if not paths:
        raise InputError(f"manifest {path} lists no files")
    return paths


def relative_label(path: Path, root: Path) -> Path:
    """``path`` relative to ``root``; paths outside it keep their full path minus the anchor."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return Path(*path.resolve().parts[1:])


def plan_items(sources: list[Path], root: Path, out_dir: Path, mirror: bool) -> list[Item]:
    """Output bases that never collide: the input tree is mirrored under ``out_dir``.

    Two inputs in one folder with the same stem (``talk.wav``, ``talk.mp3``) keep their full
    names (``talk.wav.srt``, ``talk.mp3.srt``).
    """
    unique = list(dict.fromkeys(p.resolve() for p in sources))
    rels = [relative_label(p, root) if mirror else Path(p.name) for p in unique]
    stems = Counter((r.parent, r.stem.lower()) for r in rels)
    items = []
    for src, rel in zip(unique, rels):
        name = rel.name if stems[(rel.parent, rel.stem.lower())] > 1 else rel.stem
        base = out_dir / rel.parent / name
        marker = out_dir / STATE_DIR / rel.parent / f"{rel.name}.json" if mirror else None
        items.append(Item(src, rel.as_posix(), base, marker))
    return items


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sweep_temporaries(out_dir: Path) -> int:
    """Remove temporaries a killed run (SIGKILL, power loss) may have left behind."""
    n = 0
    if out_dir.is_dir():
        for p in out_dir.rglob(f".*{TMP_SUFFIX}"):
            p.unlink(missing_ok=True)
            n += 1
    return n


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source_id(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_outputs(
    item: Item, contents: dict[str, tuple[str, bytes]], info: dict[str, Any]
) -> list[Path]:
    """Write every output atomically, then (batch) the marker that vouches for all of them."""
    written: dict[str, dict[str, Any]] = {}
    paths = []
    for fmt, (ext, data) in contents.items():
        target = item.output(ext)
        atomic_write(target, data)
        paths.append(target)
        written[fmt] = {"file": target.name, "bytes": len(data), "sha256": _sha256(data)}
    if item.marker is not None:
        record = {
            "source": str(item.source),
            **_source_id(item.source),
            "outputs": written,
            "completed": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **info,
        }
        atomic_write(item.marker, json.dumps(record, ensure_ascii=False, indent=1).encode())
    return paths


def is_complete(item: Item, formats: dict[str, str]) -> bool:
    """True when the marker vouches for every requested format and each file is intact."""
    if item.marker is None:
        return False
    try:
        record = json.loads(item.marker.read_text("utf-8"))
        if {k: record[k] for k in ("size", "mtime_ns")} != _source_id(item.source):
            return False  # the input changed since it was transcribed
        for fmt, ext in formats.items():
            entry = record["outputs"][fmt]
            data = item.output(ext).read_bytes()
            if len(data) != entry["bytes"] or _sha256(data) != entry["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True
