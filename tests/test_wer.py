"""WER/CER: hand-counted edits, corpus aggregation, normalisation and real references."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcrevai.errors import InvalidRequestError
from transcrevai.evaluation import load_manifest, make_normalizer, wer, wer_per_utterance

SHARED_MANIFEST = Path(__file__).resolve().parents[1].parent / "shared" / "audio" / "manifest.csv"


def test_substitutions_deletions_insertions_counted() -> None:
    r = wer("o gato subiu no telhado", "o gato desceu do telhado")
    assert (r.substitutions, r.deletions, r.insertions, r.hits, r.ref_words) == (2, 0, 0, 3, 5)
    assert r.wer == pytest.approx(0.4)

    r = wer("o gato subiu no telhado", "o gato no telhado")
    assert (r.substitutions, r.deletions, r.insertions) == (0, 1, 0)
    assert r.wer == pytest.approx(0.2)

    r = wer("bom dia", "bom dia a todos")
    assert (r.substitutions, r.deletions, r.insertions, r.hits) == (0, 0, 2, 2)
    assert r.wer == pytest.approx(1.0)


def test_cer_counts_characters_including_spaces() -> None:
    r = wer("pão de queijo", "pão de queija")
    assert r.ref_chars == len("pão de queijo")
    assert r.char_errors == 1
    assert r.cer == pytest.approx(1 / 13)


def test_corpus_rate_is_total_errors_over_total_words() -> None:
    refs = ["sim", "a reunião começa às nove horas da manhã amanhã"]
    hyps = ["não", "a reunião começa às nove horas da manhã amanhã"]
    per = wer_per_utterance(refs, hyps)
    assert [p.wer for p in per] == [1.0, 0.0]
    corpus = wer(refs, hyps)
    assert corpus.ref_words == 1 + 9
    assert corpus.wer == pytest.approx(1 / 10)  # not the mean of 1.0 and 0.0
    assert corpus.utterances == 2


def test_normalisation_removes_formatting_differences() -> None:
    ref = "Segundo informações, ele estava na casa dos 20 anos."
    hyp = "segundo informações ele estava na casa dos vinte anos"
    assert wer(ref, hyp).wer == 0.0
    raw = wer(ref, hyp, normalize=False)
    assert raw.substitutions == 4  # Segundo, informações, 20, anos.
    digits = wer(ref, hyp, normalize=make_normalizer(numbers="digits"))
    assert digits.wer == 0.0 and digits.ref_words == 9


def test_empty_sides() -> None:
    r = wer("", "")
    assert (r.wer, r.cer, r.ref_words) == (0.0, 0.0, 0)
    r = wer("", "olá")
    assert (r.wer, r.insertions) == (1.0, 1)
    r = wer("bom dia", "")
    assert (r.wer, r.deletions, r.char_errors) == (1.0, 2, 7)
    r = wer("hã, hum", "ahn")  # only hesitations: empty after normalisation on both sides
    assert (r.wer, r.ref_words) == (0.0, 0)


def test_lengths_must_match() -> None:
    with pytest.raises(InvalidRequestError):
        wer(["a", "b"], ["a"])


@pytest.mark.skipif(not SHARED_MANIFEST.is_file(), reason="../shared/audio/manifest.csv absent")
def test_real_references_against_reformatted_copies() -> None:
    """Real references re-written as a recogniser might (case, punctuation, digits) score 0,
    while one dropped word per utterance is counted exactly."""
    items = load_manifest(SHARED_MANIFEST, check_files=False)
    refs = [item.reference for item in items]
    reformatted = [
        (r[0].upper() + r[1:] + ".")
        .replace("duzentos e sessenta e seis", "266")
        .replace(" 20 ", " vinte ")
        for r in refs
    ]
    assert wer(refs, reformatted).wer == 0.0
    dropped = [" ".join(r.split()[1:]) for r in refs]
    result = wer(refs, dropped)
    assert result.deletions == len(refs)
    assert result.substitutions + result.insertions == 0
    assert result.wer == pytest.approx(len(refs) / result.ref_words)
