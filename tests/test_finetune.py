"""scripts/finetune.py really trains: a tiny random Whisper on synthetic Portuguese, end to end.

train (loss falls) → HF checkpoint → CTranslate2 → scripts/import_model.py (a private BentoML
store) → faster-whisper loads it and transcribes (garbage text: the model is tiny and random).
torch/transformers live in a separate venv (.venv-finetune, see docs/finetuning.md), never in
the service's; the test runs the script with that interpreter and skips where it is absent.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import synth

ROOT = Path(__file__).resolve().parents[1]
FT_PYTHON = ROOT / ".venv-finetune" / "bin" / "python"
TEXTS = [
    "O gato subiu no telhado.",
    "Amanhã vamos à praia.",
    "O trem chegou atrasado.",
    "Ela comprou pão e leite.",
    "Hoje o céu está azul.",
    "Nós gostamos de música.",
]
STEPS = 30

pytestmark = pytest.mark.slow  # torch import + 30 CPU steps + conversion: minutes here


def _require_finetune_env() -> None:
    if not FT_PYTHON.is_file():
        pytest.skip(
            f"{FT_PYTHON} is absent: fine-tuning needs its own venv with torch (docs/finetuning.md)"
        )
    probe = subprocess.run(
        [str(FT_PYTHON), "-c", "import torch, transformers, peft, ctranslate2"],
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        pytest.skip(f"the fine-tuning venv lacks torch/transformers/peft: {probe.stderr[-300:]}")


def _tokenizer_dir() -> Path:
    from transcrevai.errors import ModelError
    from transcrevai.models import resolve_model
    from transcrevai.settings import get_settings

    try:
        path = resolve_model("base", get_settings().model_cache_dir, allow_download=False).path
    except ModelError as exc:
        pytest.skip(f"the multilingual base model (for its tokenizer.json) is absent: {exc}")
    return Path(path)


def _finetune(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(FT_PYTHON), str(ROOT / "scripts" / "finetune.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_finetune_env()
    if not synth.have_espeak():
        pytest.skip("espeak-ng is not installed (scripts/install_deps.sh installs it)")
    voices = ["mb-br1", "mb-br3", "mb-br4"] if synth.have_mbrola("br1") else ["pt-br"]
    folder = tmp_path_factory.mktemp("ftcorpus")
    with open(folder / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["audio_path", "reference_text"])
        for i, text in enumerate(TEXTS):
            audio = synth.synthesize(text, voice=voices[i % len(voices)], speed=150)
            synth.write_wav(folder / f"clip{i}.wav", audio)
            writer.writerow([f"clip{i}.wav", text])
    return folder


def test_tiny_model_trains_exports_imports_and_runs(corpus: Path, tmp_path: Path) -> None:
    tokenizer = _tokenizer_dir()
    hf, ct2 = tmp_path / "hf", tmp_path / "ct2"
    proc = _finetune(
        "--model",
        "random-tiny",
        "--tokenizer",
        str(tokenizer),
        "--manifest",
        str(corpus / "manifest.csv"),
        "--output",
        str(hf),
        "--max-steps",
        str(STEPS),
        "--lr",
        "2e-3",
        "--batch-size",
        "2",
        "--eval-split",
        "0.2",
        "--export-ct2",
        str(ct2),
    )
    log = json.loads((hf / "training_log.json").read_text(encoding="utf-8"))
    losses = log["losses"]
    assert len(losses) == STEPS and log["train_items"] == 5 and log["eval_items"] == 1
    assert losses[0] > 10.0  # ~ln(51865): a random model knows nothing
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.5, losses
    assert log["eval_loss_after"] < log["eval_loss_before"], log
    assert "loss per step:" in proc.stdout

    for name in ("config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"):
        assert (hf / name).is_file(), name
    ct2_config = json.loads((ct2 / "config.json").read_text(encoding="utf-8"))
    assert len(ct2_config["lang_ids"]) == 99  # restored: language detection needs them

    store = tmp_path / "bentoml"
    env = {**os.environ, "BENTOML_HOME": str(store), "BENTOML_DO_NOT_TRACK": "true"}
    imported = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "import_model.py"),
            str(ct2),
            "--name",
            "finetune-smoke",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "Imported ct2-dir as finetune-smoke:" in imported.stdout
    (stored,) = [p for p in (store / "models" / "finetune-smoke").iterdir() if p.name != "latest"]
    assert (stored / "model.bin").is_file() and (stored / "tokenizer.json").is_file()

    from faster_whisper import WhisperModel

    model = WhisperModel(str(stored), device="cpu", compute_type="int8", local_files_only=True)
    segments, info = model.transcribe(
        str(corpus / "clip0.wav"),
        language="pt",
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=True,
    )
    assert info.language == "pt"
    assert isinstance(" ".join(s.text for s in segments), str)
    lang, prob, _ = model.detect_language(audio=synth.synthesize(TEXTS[0], voice="pt-br"))
    assert lang and 0.0 <= prob <= 1.0


def test_lora_trains_adapters_and_merges_them(corpus: Path, tmp_path: Path) -> None:
    tokenizer = _tokenizer_dir()
    out = tmp_path / "lora"
    _finetune(
        "--model",
        "random-tiny",
        "--tokenizer",
        str(tokenizer),
        "--lora",
        "--manifest",
        str(corpus / "manifest.csv"),
        "--output",
        str(out),
        "--max-steps",
        "6",
        "--lr",
        "5e-3",
        "--batch-size",
        "3",
        "--eval-split",
        "0",
    )
    log = json.loads((out / "training_log.json").read_text(encoding="utf-8"))
    assert log["lora"] and len(log["losses"]) == 6 and log["losses"][-1] < log["losses"][0]
    weights = subprocess.run(
        [
            str(FT_PYTHON),
            "-c",
            "import sys; from safetensors import safe_open; "
            "f = safe_open(sys.argv[1], 'pt'); print('\\n'.join(f.keys()))",
            str(out / "model.safetensors"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "q_proj.weight" in weights and "lora" not in weights  # merged: a plain Whisper
