"""Word and character error rates, per utterance and over a corpus, through jiwer.

Corpus rates are total errors over total reference words (or characters), not the mean of
per-utterance rates: a one-word utterance must not weigh as much as a forty-word one. Text
is normalised with :func:`~transcrevai.evaluation.normalize.normalize_pt` first unless told
otherwise, so punctuation, case and "20" vs "vinte" are not counted as errors. CER counts
spaces as characters (jiwer's default). With an empty reference, a rate is 0.0 when the
hypothesis is empty too and 1.0 otherwise (bounded, unlike errors / 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import jiwer

from transcrevai.errors import InvalidRequestError
from transcrevai.evaluation.normalize import normalize_pt

Normalizer = bool | Callable[[str], str]


@dataclass(frozen=True)
class ErrorRates:
    """Edit counts and the rates derived from them (for one utterance or a whole corpus)."""

    wer: float
    cer: float
    substitutions: int
    deletions: int
    insertions: int
    hits: int
    ref_words: int
    char_errors: int = 0
    ref_chars: int = 0
    utterances: int = 1

    @property
    def word_errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def _rate(errors: int, total: int) -> float:
    if total == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / total


def _resolve(normalize: Normalizer) -> Callable[[str], str]:
    if normalize is True:
        return normalize_pt
    if normalize is False:
        return lambda text: " ".join(text.split())
    return normalize


def _as_list(texts: str | Sequence[str]) -> list[str]:
    return [texts] if isinstance(texts, str) else list(texts)


def score_pair(reference: str, hypothesis: str) -> ErrorRates:
    """Error counts for one already-normalised reference/hypothesis pair."""
    if not reference.strip() or not hypothesis.strip():
        # Nothing to align (jiwer 3 rejects an empty reference): all deletions or insertions.
        ref_n, hyp_n = len(reference.split()), len(hypothesis.split())
        ref_c, hyp_c = len(reference.strip()), len(hypothesis.strip())
        return ErrorRates(
            wer=_rate(ref_n + hyp_n, ref_n),
            cer=_rate(ref_c + hyp_c, ref_c),
            substitutions=0,
            deletions=ref_n,
            insertions=hyp_n,
            hits=0,
            ref_words=ref_n,
            char_errors=ref_c + hyp_c,
            ref_chars=ref_c,
        )
    words = jiwer.process_words(reference, hypothesis)
    chars = jiwer.process_characters(reference, hypothesis)
    ref_words = words.hits + words.substitutions + words.deletions
    ref_chars = chars.hits + chars.substitutions + chars.deletions
    char_errors = chars.substitutions + chars.deletions + chars.insertions
    word_errors = words.substitutions + words.deletions + words.insertions
    return ErrorRates(
        wer=_rate(word_errors, ref_words),
        cer=_rate(char_errors, ref_chars),
        substitutions=words.substitutions,
        deletions=words.deletions,
        insertions=words.insertions,
        hits=words.hits,
        ref_words=ref_words,
        char_errors=char_errors,
        ref_chars=ref_chars,
    )


def combine(rates: Iterable[ErrorRates]) -> ErrorRates:
    """Corpus-level rates: summed counts, then total errors / total reference units."""
    items = list(rates)
    sub = sum(r.substitutions for r in items)
    dele = sum(r.deletions for r in items)
    ins = sum(r.insertions for r in items)
    ref_words = sum(r.ref_words for r in items)
    char_errors = sum(r.char_errors for r in items)
    ref_chars = sum(r.ref_chars for r in items)
    return ErrorRates(
        wer=_rate(sub + dele + ins, ref_words),
        cer=_rate(char_errors, ref_chars),
        substitutions=sub,
        deletions=dele,
        insertions=ins,
        hits=sum(r.hits for r in items),
        ref_words=ref_words,
        char_errors=char_errors,
        ref_chars=ref_chars,
        utterances=sum(r.utterances for r in items),
    )


def wer_per_utterance(
    refs: str | Sequence[str], hyps: str | Sequence[str], normalize: Normalizer = True
) -> list[ErrorRates]:
    """One :class:`ErrorRates` per reference/hypothesis pair, in order."""
    ref_list, hyp_list = _as_list(refs), _as_list(hyps)
    if len(ref_list) != len(hyp_list):
        raise InvalidRequestError(
            f"{len(ref_list)} references but {len(hyp_list)} hypotheses: they must pair up"
        )
    norm = _resolve(normalize)
    return [score_pair(norm(r), norm(h)) for r, h in zip(ref_list, hyp_list, strict=True)]


def wer(
    refs: str | Sequence[str], hyps: str | Sequence[str], normalize: Normalizer = True
) -> ErrorRates:
    """Corpus-level WER/CER of ``hyps`` against ``refs`` (one string or parallel lists).

    ``normalize``: True → :func:`normalize_pt` defaults; False → only whitespace collapsed;
    a callable → used on both sides (e.g. ``make_normalizer(numbers="digits")``).
    """
    return combine(wer_per_utterance(refs, hyps, normalize))
