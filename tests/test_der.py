"""DER against hand-computed cases and numbers from pyannote.metrics; RTTM round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcrevai.errors import InvalidRequestError
from transcrevai.evaluation.der import der, read_rttm, write_rttm
from transcrevai.types import SpeakerTurn

DATA = Path(__file__).parent / "data" / "eval"


def turns(*spec: tuple[float, float, str]) -> list[SpeakerTurn]:
    return [SpeakerTurn(start=s, end=e, speaker=k) for s, e, k in spec]


TWO = turns((0, 10, "A"), (10, 20, "B"))


def test_perfect_and_permuted_labels_score_zero() -> None:
    assert der(TWO, TWO).der == 0.0
    result = der(TWO, turns((0, 10, "SPEAKER_01"), (10, 20, "SPEAKER_00")), collar=0)
    assert result.der == 0.0
    assert result.total == 20.0
    assert result.mapping == {"SPEAKER_01": "A", "SPEAKER_00": "B"}


def test_one_hypothesis_speaker_for_two_confuses_half() -> None:
    result = der(TWO, turns((0, 20, "X")), collar=0)
    assert (result.missed, result.false_alarm, result.confusion) == (0.0, 0.0, 10.0)
    assert result.der == pytest.approx(0.5)


def test_labels_alternating_across_speakers_confuse_half() -> None:
    hyp = turns((0, 5, "X"), (5, 10, "Y"), (10, 15, "X"), (15, 20, "Y"))
    result = der(TWO, hyp, collar=0)
    assert result.confusion == pytest.approx(10.0)
    assert result.der == pytest.approx(0.5)


def test_missed_speech() -> None:
    result = der(turns((0, 10, "A")), turns((0, 6, "A")), collar=0)
    assert (result.missed, result.false_alarm, result.confusion) == (4.0, 0.0, 0.0)
    assert result.der == pytest.approx(0.4)


def test_false_alarm() -> None:
    result = der(turns((0, 10, "A")), turns((0, 10, "x"), (12, 15, "y")), collar=0)
    assert (result.missed, result.false_alarm, result.confusion) == (0.0, 3.0, 0.0)
    assert result.der == pytest.approx(0.3)


def test_collar_forgives_small_boundary_shifts() -> None:
    hyp = turns((0, 10.2, "A"), (10.2, 20, "B"))
    no_collar = der(TWO, hyp, collar=0)
    assert no_collar.confusion == pytest.approx(0.2)
    assert no_collar.der == pytest.approx(0.2 / 20)
    with_collar = der(TWO, hyp, collar=0.25)
    assert with_collar.der == 0.0
    # zones [-0.25, 0.25], [9.75, 10.25], [19.75, 20.25] leave 20 - 0.25 - 0.5 - 0.25 s
    assert with_collar.total == pytest.approx(19.0)
    assert der(TWO, turns((0, 10.4, "A"), (10.4, 20, "B")), collar=0.25).confusion == (
        pytest.approx(0.15)
    )


def test_overlap_counts_every_reference_speaker() -> None:
    ref = turns((0, 10, "A"), (5, 15, "B"))
    hyp = turns((0, 10, "X"), (10, 15, "Y"))
    result = der(ref, hyp, collar=0)
    assert result.total == pytest.approx(20.0)  # 5-10 counts twice
    assert result.missed == pytest.approx(5.0)  # B inside the overlap
    assert result.der == pytest.approx(0.25)
    skipped = der(ref, hyp, collar=0, skip_overlap=True)
    assert skipped.total == pytest.approx(10.0)
    assert skipped.der == 0.0


def test_empty_hypothesis_and_empty_reference() -> None:
    result = der(TWO, [], collar=0)
    assert result.der == 1.0 and result.missed == 20.0 and result.mapping == {}
    only_fa = der([], turns((1, 4, "X")))
    assert (only_fa.der, only_fa.total, only_fa.false_alarm) == (1.0, 0.0, 3.0)
    assert der([], []).der == 0.0


def test_matches_pyannote_metrics() -> None:
    """Numbers printed by pyannote.metrics 4.2.0 DiarizationErrorRate on this case (its
    collar is the full width: 0.5 there = 0.25 here)."""
    ref = turns((0, 10, "A"), (8, 15, "B"), (15, 20, "A"))
    hyp = turns((0.5, 9, "x"), (9, 16, "y"), (16, 22, "x"), (12, 13, "z"))
    expected = {
        (0.0, False): (0.295455, 2.5, 3.0, 1.0, 22.0),
        (0.25, False): (0.269231, 1.75, 2.75, 0.75, 19.5),
        (0.25, True): (0.227273, 0.25, 2.75, 0.75, 16.5),
    }
    for (collar, skip), (rate, missed, fa, confusion, total) in expected.items():
        r = der(ref, hyp, collar=collar, skip_overlap=skip)
        assert r.der == pytest.approx(rate, abs=1e-6)
        assert (r.missed, r.false_alarm, r.confusion, r.total) == pytest.approx(
            (missed, fa, confusion, total)
        )
        assert r.mapping == {"x": "A", "y": "B"}


def test_bad_turns_rejected() -> None:
    with pytest.raises(InvalidRequestError):
        der(turns((5, 4, "A")), [])
    with pytest.raises(InvalidRequestError):
        der(TWO, TWO, collar=-1)


def test_rttm_read_write_round_trip(tmp_path: Path) -> None:
    files = read_rttm(DATA / "ref.rttm")
    assert sorted(files) == ["outra", "sessao1"]
    assert files["sessao1"] == turns((0, 10, "A"), (8, 15, "B"), (15, 20, "A"))
    assert files["outra"] == turns((1.5, 3.75, "spk_1"))
    out = tmp_path / "hyp.rttm"
    write_rttm(out, {"sessao 1": turns((2.0, 3.5, "SPEAKER 00"))})
    assert out.read_text(encoding="utf-8") == (
        "SPEAKER sessao_1 1 2.000 1.500 <NA> <NA> SPEAKER_00 <NA> <NA>\n"
    )
    write_rttm(out, files)
    assert read_rttm(out) == files


def test_malformed_rttm_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER f 1 0.0 1.0 <NA> <NA> A <NA> <NA>\nSPEAKER f 1 abc\n", "utf-8")
    with pytest.raises(InvalidRequestError, match="line 2"):
        read_rttm(bad)
