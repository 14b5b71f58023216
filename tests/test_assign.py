"""Word -> speaker assignment on hand-built transcripts and turns."""

from __future__ import annotations

from transcrevai.assign import assign_speakers
from transcrevai.types import Segment, SpeakerTurn, Transcript, Word


def W(text: str, start: float, end: float) -> Word:
    return Word(word=text, start=start, end=end)


def T(start: float, end: float, speaker: str) -> SpeakerTurn:
    return SpeakerTurn(start=start, end=end, speaker=speaker)


def transcript(*segments: Segment) -> Transcript:
    t = Transcript(segments=list(segments), duration=20.0)
    t.rebuild_text()
    return t


def test_word_goes_to_speaker_with_most_overlap() -> None:
    # "casa" spans 1.0-2.0: 0.3 s with A, 0.7 s with B -> B; summed over B's two turns too.
    seg = Segment(
        start=0.0, end=2.0, text="a casa", words=[W(" a", 0.0, 0.5), W(" casa", 1.0, 2.0)]
    )
    out = assign_speakers(transcript(seg), [T(0.0, 1.3, "A"), T(1.3, 1.6, "B"), T(1.6, 2.0, "B")])
    words = [w for s in out.segments for w in s.words]
    assert [(w.word, w.speaker) for w in words] == [(" a", "A"), (" casa", "B")]
    assert [(s.text, s.speaker) for s in out.segments] == [("a", "A"), ("casa", "B")]


def test_summed_overlap_beats_single_longest_turn() -> None:
    # A has one 0.4 s piece; B has two 0.3 s pieces (0.6 s in total) -> B.
    seg = Segment(start=0.0, end=1.0, text="palavra", words=[W("palavra", 0.0, 1.0)])
    turns = [T(0.0, 0.3, "B"), T(0.3, 0.7, "A"), T(0.7, 1.0, "B")]
    out = assign_speakers(transcript(seg), turns)
    assert out.segments[0].words[0].speaker == "B"
    assert out.segments[0].speaker == "B"


def test_nearest_turn_when_none_overlaps() -> None:
    seg = Segment(
        start=4.0, end=6.2, text="oi tudo", words=[W(" oi", 4.0, 4.2), W(" tudo", 6.0, 6.2)]
    )
    # word 1 (mid 4.1) is 0.6 s after A ends and 0.9 s before B starts -> A;
    # word 2 (mid 6.1) is 0.1 s after B ends -> B.
    out = assign_speakers(transcript(seg), [T(1.0, 3.5, "A"), T(5.0, 6.0, "B")])
    words = [w for s in out.segments for w in s.words]
    assert [w.speaker for w in words] == ["A", "B"]


def test_segment_split_where_speaker_changes() -> None:
    seg = Segment(
        id=0,
        start=0.0,
        end=4.0,
        text="bom dia tudo bem sim",
        avg_logprob=-0.2,
        words=[
            W(" bom", 0.0, 0.4),
            W(" dia", 0.5, 0.9),
            W(" tudo", 1.6, 2.0),
            W(" bem?", 2.1, 2.5),
            W(" Sim.", 3.2, 3.6),
        ],
    )
    after = Segment(id=1, start=5.0, end=6.0, text="Certo.", words=[W(" Certo.", 5.0, 6.0)])
    turns = [T(0.0, 1.0, "SPEAKER_00"), T(1.5, 2.6, "SPEAKER_01"), T(3.0, 6.0, "SPEAKER_00")]
    out = assign_speakers(transcript(seg, after), turns)
    got = [(s.id, s.start, s.end, s.text, s.speaker) for s in out.segments]
    assert got == [
        (0, 0.0, 0.9, "bom dia", "SPEAKER_00"),
        (1, 1.6, 2.5, "tudo bem?", "SPEAKER_01"),
        (2, 3.2, 3.6, "Sim.", "SPEAKER_00"),
        (3, 5.0, 6.0, "Certo.", "SPEAKER_00"),  # unsplit segment keeps its own text
    ]
    assert all(s.avg_logprob == -0.2 for s in out.segments[:3])
    assert [w.word for w in out.segments[1].words] == [" tudo", " bem?"]
    assert seg.words[0].speaker is None  # the input transcript is not modified


def test_words_without_spaces_are_joined_with_spaces() -> None:
    seg = Segment(
        start=0.0,
        end=2.0,
        text="ola mundo",
        words=[W("olá", 0.0, 0.5), W("mundo", 0.6, 1.0), W("adeus", 1.5, 2.0)],
    )
    out = assign_speakers(transcript(seg), [T(0.0, 1.2, "A"), T(1.2, 2.0, "B")])
    assert [s.text for s in out.segments] == ["olá mundo", "adeus"]


def test_speakers_in_order_of_first_appearance_and_turns_kept() -> None:
    segs = [
        Segment(start=float(i), end=i + 0.8, text=f"w{i}", words=[W(f" w{i}", i, i + 0.8)])
        for i in range(4)
    ]
    # unsorted turns; SPEAKER_03 has a turn but no words
    turns = [
        T(2.0, 3.0, "SPEAKER_02"),
        T(0.0, 1.0, "SPEAKER_07"),
        T(1.0, 2.0, "SPEAKER_02"),
        T(3.0, 3.9, "SPEAKER_07"),
        T(9.0, 9.5, "SPEAKER_03"),
    ]
    out = assign_speakers(transcript(*segs), turns)
    assert out.speakers == ["SPEAKER_07", "SPEAKER_02", "SPEAKER_03"]
    assert [s.speaker for s in out.segments] == [
        "SPEAKER_07",
        "SPEAKER_02",
        "SPEAKER_02",
        "SPEAKER_07",
    ]
    assert [(t.start, t.speaker) for t in out.turns] == [
        (0.0, "SPEAKER_07"),
        (1.0, "SPEAKER_02"),
        (2.0, "SPEAKER_02"),
        (3.0, "SPEAKER_07"),
        (9.0, "SPEAKER_03"),
    ]


def test_segment_without_words_attributed_as_a_whole() -> None:
    seg = Segment(start=2.0, end=5.0, text="sem palavras")
    out = assign_speakers(transcript(seg), [T(0.0, 2.5, "A"), T(2.5, 5.0, "B")])
    assert out.segments[0].speaker == "B"
    assert out.segments[0].text == "sem palavras"


def test_no_turns_leaves_transcript_unattributed() -> None:
    seg = Segment(start=0.0, end=1.0, text="oi", words=[W(" oi", 0.0, 1.0)])
    out = assign_speakers(transcript(seg), [])
    assert out.speakers == [] and out.segments[0].speaker is None
    assert out.segments[0].words[0].speaker is None
