"""`bentoml build` offline, then `bentoml serve` of the built Bento (not the source tree)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, start_server, stop_server
from tests.synth import simple_wer

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("bentoml-home")
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
    imp = subprocess.run(
        [sys.executable, "scripts/import_model.py", "tiny.en"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imp.returncode == 0, imp.stderr
    spk = subprocess.run(
        [sys.executable, "scripts/import_speaker_encoder.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert spk.returncode == 0, spk.stderr
    build = subprocess.run(
        [str(BIN / "bentoml"), "build", "."],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0 and "Successfully built Bento" in build.stdout, (
        build.stdout + build.stderr
    )
    (bento,) = [p for p in (home / "bentos" / "transcrevai").iterdir() if p.name != "latest"]
    return bento, env


def test_bento_holds_model_stats_and_code(built: tuple[Path, dict[str, str]]) -> None:
    bento, env = built
    meta = yaml.safe_load((bento / "bento.yaml").read_text())
    assert sorted(m["tag"].split(":")[0] for m in meta["models"]) == [
        "transcrevai-ge2e",
        "transcrevai-whisper",
    ]
    src = bento / "src"
    for rel in (
        "service.py",
        "runners/whisper.py",
        "runners/diarization.py",
        "transcrevai/pipeline.py",
    ):
        assert (src / rel).is_file(), rel
    stats = sorted(p.name for p in (src / "stats").glob("*.json"))
    assert "ptbr_feature_stats.json" in stats
    assert not (src / "tests").exists(), "tests must not ship in the Bento"
    listed = subprocess.run(
        [str(BIN / "bentoml"), "models", "list", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "transcrevai-whisper" in listed


def test_dockerfile_sets_env_and_system_packages(built: tuple[Path, dict[str, str]]) -> None:
    bento, _ = built
    docker = (bento / "env" / "docker" / "Dockerfile").read_text()
    for var in (
        "AUTO_UNLOAD_MODELS",
        "MODEL_IDLE_TIMEOUT",
        "WHISPER_MAX_BATCH_SIZE",
        "WHISPER_MAX_LATENCY_MS",
        "WHISPER_COMPUTE_TYPE",
    ):
        assert f"ENV {var}=" in docker, var
    assert "ffmpeg" in docker
    assert "mbrola" not in docker.lower(), "MBROLA voices must never ship (licence)"
    reqs = (bento / "env" / "python" / "requirements.txt").read_text().lower()
    assert "faster-whisper" in reqs and "torch" not in reqs


def test_serving_the_built_bento_transcribes(
    built: tuple[Path, dict[str, str]], tmp_path: Path, en_speech: tuple[Path, str]
) -> None:
    _, env = built
    server = start_server(
        tmp_path,
        {"BENTOML_HOME": env["BENTOML_HOME"], "WHISPER_MODEL": "default"},
        target="transcrevai:latest",
        cwd=tmp_path,
    )
    try:
        with server.client() as c, open(en_speech[0], "rb") as fh:
            r = c.post("/transcribe", files={"file": ("en.wav", fh)}, data={"language": "en"})
        assert r.status_code == 200, r.text
        data = json.loads(r.content)
        assert data["model"]["source"] == "bentoml-store"
        assert simple_wer(en_speech[1], data["text"]) <= 0.25, data["text"]
        # diarization runs from the Bento too: the GE2E weights come from its model store
        with server.client() as c, open(en_speech[0], "rb") as fh:
            r = c.post("/diarize", files={"file": ("en.wav", fh)}, data={"output_format": "json"})
        assert r.status_code == 200, r.text
        assert r.json()["speakers"] == ["SPEAKER_00"]
    finally:
        stop_server(server)
