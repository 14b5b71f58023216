"""Diarization on real voices (mls-pt) and espeak-ng/MBROLA voices, with exact reference turns.

Bounds were measured (scripts/bench_diarization.py and the runs noted per test) and carry a
margin; the conversations are deterministic by seed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from tests.conversations import (
    Conversation,
    espeak_conversation,
    have_mls,
    mls_conversation,
    mls_speakers,
    speech_regions,
)
from tests.synth import have_espeak, have_mbrola
from transcrevai.diarization import (
    DiarizationConfig,
    FeatureExtractor,
    cluster_and_segment,
    cut_windows,
    diarize,
    plan_windows,
)
from transcrevai.diarization.normalization import load_stats, resolve_mode
from transcrevai.diarization.turns import build_turns
from transcrevai.errors import InvalidRequestError
from transcrevai.evaluation.der import der
from transcrevai.types import TranscribeOptions

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")
needs_mls = pytest.mark.skipif(not have_mls(), reason="../shared/audio/mls-pt is absent")
CONFIG = DiarizationConfig()


@pytest.fixture(scope="module")
def extractor() -> FeatureExtractor:
    return FeatureExtractor(CONFIG)


def run(conv: Conversation, extractor: FeatureExtractor, **opts: object):
    options = TranscribeOptions(diarize=True, **opts)  # type: ignore[arg-type]
    return diarize(
        conv.audio, speech_regions(conv.audio), conv.duration, options, CONFIG, extractor
    )


# -- windows and turns (no audio) ---------------------------------------------------------------


def test_plan_windows_cover_speech_and_short_regions_get_one_window() -> None:
    wins = plan_windows([(0.0, 4.0), (5.0, 5.6), (7.0, 7.02)], duration=10.0)
    assert wins[0] == (0.0, 1.5) and (5.0, 5.6) in wins
    assert wins[-2] == (2.5, 4.0)  # last window aligned to the region's end
    assert all(b - a <= 1.5 + 1e-9 for a, b in wins)
    assert not any(a >= 7.0 for a, _ in wins)  # a 20 ms blip is not a window
    inside = [w for w in wins if w[1] <= 4.0]
    assert [a for a, _ in inside] == [0.0, 0.75, 1.5, 2.25, 2.5]


def test_cut_windows_lengths() -> None:
    audio = np.arange(16000 * 3, dtype=np.float32)
    clips = cut_windows(audio, [(0.0, 1.5), (2.5, 3.5)])
    assert [len(c) for c in clips] == [24000, 8000]
    assert clips[1][0] == 40000.0


def test_turns_nearest_centre_min_turn_and_gap_merge() -> None:
    # overlapping windows labelled A A B B: the change lands halfway between window centres
    wins = [(0.0, 1.5), (0.75, 2.25), (1.5, 3.0), (2.25, 3.75)]
    turns = build_turns(wins, [0, 0, 1, 1], frame=0.01)
    assert [(t.speaker, t.start, t.end) for t in turns] == [
        ("SPEAKER_00", 0.0, 1.88),
        ("SPEAKER_01", 1.88, 3.75),
    ]
    # a 0.2 s run between two turns of another speaker is absorbed; a 0.4 s pause is merged
    turns = build_turns(
        [(0.0, 2.0), (2.0, 2.2), (2.2, 4.0), (4.4, 6.0)],
        [1, 0, 1, 1],
        frame=0.01,
        min_turn=0.3,
        merge_gap=0.5,
    )
    assert [(t.speaker, t.start, t.end) for t in turns] == [("SPEAKER_00", 0.0, 6.0)]
    # labels are named in order of first appearance
    turns = build_turns([(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)], [5, 2, 5], frame=0.01)
    assert [t.speaker for t in turns] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]


# -- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opts",
    [
        {"num_speakers": 0},
        {"min_speakers": 3, "max_speakers": 2},
        {"max_speakers": -1},
        {"num_speakers": 5},
        {"min_speakers": 5},
        {"num_speakers": 3, "max_speakers": 2},
    ],
)
def test_bad_speaker_options_are_invalid_requests(opts: dict[str, Any]) -> None:
    feats = np.random.default_rng(0).normal(size=(4, 256))
    wins = [(i * 0.75, i * 0.75 + 1.5) for i in range(4)]
    with pytest.raises(InvalidRequestError):
        cluster_and_segment(feats, wins, config=CONFIG, **opts)


def test_max_speakers_above_window_count_is_clamped() -> None:
    rng = np.random.default_rng(1)
    feats = np.vstack([rng.normal(3, 1, (3, 256)), rng.normal(-3, 1, (3, 256))])
    wins = [(i * 1.0, i * 1.0 + 1.0) for i in range(6)]
    turns = cluster_and_segment(feats, wins, max_speakers=30, config=CONFIG)
    assert 1 <= len({t.speaker for t in turns}) <= 6


def test_no_speech_gives_no_turns() -> None:
    assert cluster_and_segment(np.zeros((0, 256)), [], num_speakers=2, config=CONFIG) == []


def test_language_picks_normalisation() -> None:
    assert load_stats(CONFIG.stats_path) is not None, "stats/ptbr_feature_stats.json missing"
    assert resolve_mode(CONFIG, "pt") == "ptbr" and resolve_mode(CONFIG, None) == "ptbr"
    assert resolve_mode(CONFIG, "en") == "file"
    assert (
        resolve_mode(replace(CONFIG, stats_path=CONFIG.stats_path.with_name("x.json")), "pt")
        == "file"
    )


def test_shipped_stats_have_provenance_and_exclude_the_evaluation_set() -> None:
    data = json.loads(CONFIG.stats_path.read_text(encoding="utf-8"))
    prov = data["provenance"]
    assert "mls-pt" in prov["excluded"] and "mls-pt" not in prov["subsets"]
    assert prov["files"] > 0 and prov["speech_hours"] > 0 and prov["date"]
    for block in ("mfcc", "spectral", "ge2e"):
        b = data["blocks"][block]
        assert len(b["mean"]) == len(b["std"]) == len(b["names"]) == b["dim"]
        assert all(s >= 0 for s in b["std"]) and np.mean(np.array(b["std"]) > 0) > 0.9
        assert all(lo <= m <= hi for lo, m, hi in zip(b["min"], b["mean"], b["max"], strict=True))


# -- features ------------------------------------------------------------------------------------


@needs_espeak
def test_extract_rows_do_not_depend_on_the_batch(extractor: FeatureExtractor) -> None:
    conv = espeak_conversation(["pt-br", "pt+f3"], n_turns=2, seed=3)
    wins = plan_windows(speech_regions(conv.audio), conv.duration)
    clips = cut_windows(conv.audio, wins)
    alone = extractor.extract(clips[:3])
    noise = np.random.default_rng(0).normal(0, 0.05, 9000).astype(np.float32)
    mixed = extractor.extract([noise, *clips[:3], clips[-1][:5000], np.zeros(0, np.float32)])
    assert alone.shape == (3, 256) and mixed.shape == (6, 256)
    assert np.isfinite(mixed).all()
    np.testing.assert_allclose(mixed[1:4], alone, atol=1e-4)
    assert np.allclose(np.linalg.norm(alone, axis=1), 1.0, atol=1e-4)


# -- synthetic voices ------------------------------------------------------------------------------


@needs_espeak
def test_three_espeak_voices(extractor: FeatureExtractor) -> None:
    # "pt-br" and "pt-br+m3" sound alike to GE2E (centroid cosine 0.9) and merge; these differ
    conv = espeak_conversation(["pt-br", "pt+f3", "pt-br+m7"], n_turns=8, seed=1)
    turns = run(conv, extractor)
    assert len({t.speaker for t in turns}) == 3
    assert der(conv.turns, turns).der <= 0.15  # measured 1.7 % (seeds 2, 3: 0 %)


@needs_espeak
@pytest.mark.skipif(
    not have_mbrola("br1") or not have_mbrola("br3"),
    reason="MBROLA br1/br3 voices are not installed (scripts/install_mbrola.sh)",
)
def test_two_mbrola_voices(extractor: FeatureExtractor) -> None:
    conv = espeak_conversation(["mb-br1", "mb-br3"], n_turns=6, seed=2)
    turns = run(conv, extractor)
    assert len({t.speaker for t in turns}) == 2
    assert der(conv.turns, turns).der <= 0.15


@needs_espeak
def test_single_espeak_voice_is_one_speaker(extractor: FeatureExtractor) -> None:
    conv = espeak_conversation(["pt-br"], n_turns=5, seed=4)
    turns = run(conv, extractor)
    assert {t.speaker for t in turns} == {"SPEAKER_00"}


# -- real voices -----------------------------------------------------------------------------------


@needs_mls
def test_real_voices_conversation(extractor: FeatureExtractor) -> None:
    conv = mls_conversation(7, n_speakers=3, duration=(60.0, 70.0), noise_snr_db=25.0)
    turns = run(conv, extractor)
    result = der(conv.turns, turns)
    print(f"mls-pt 3 speakers, {conv.duration:.0f} s: DER {result.der:.1%}")
    assert len({t.speaker for t in turns}) == 3
    assert result.der <= 0.08  # measured 0.0 %; the bench's worst 60-120 s file was ~10 %
    assert turns[0].speaker == "SPEAKER_00"
    assert all(a.end <= b.start for a, b in zip(turns, turns[1:], strict=False))


@needs_mls
def test_real_voice_monologue_is_one_speaker(extractor: FeatureExtractor) -> None:
    conv = mls_conversation(11, speakers=[mls_speakers()[4]], duration=(40.0, 50.0))
    turns = run(conv, extractor)
    assert {t.speaker for t in turns} == {"SPEAKER_00"}
    assert der(conv.turns, turns).der <= 0.08


@needs_mls
def test_num_and_max_speakers_are_obeyed(extractor: FeatureExtractor) -> None:
    conv = mls_conversation(5, n_speakers=2, duration=(30.0, 35.0))
    assert len({t.speaker for t in run(conv, extractor, num_speakers=3)}) == 3
    assert len({t.speaker for t in run(conv, extractor, max_speakers=1)}) == 1
    assert 2 <= len({t.speaker for t in run(conv, extractor, min_speakers=2, max_speakers=4)}) <= 4
    two = run(conv, extractor, num_speakers=2)
    assert len({t.speaker for t in two}) == 2
    assert der(conv.turns, two).der <= 0.08
