"""Which Portuguese a transcript is in: pt-BR, pt-PT or African Portuguese (pt-AF).

Two parts, stacked so every label can still be explained:

    ngram_logits = word 1-2-gram logistic regression (fitted on labelled sentences)
    logits = W @ [marker_scores, ngram_logits] + b;  scores = softmax(logits)

``marker_scores`` are the summed weights of the hand-written markers in
``transcrevai.variety_markers`` (documented with sources in docs/variety.md): they carry what
a few hundred training sentences cannot teach (place names, institutions, spelling rules). The
n-gram model catches the weak, frequent cues (function words, word order). ``W`` and ``b`` come
from a logistic regression fitted on out-of-fold n-gram logits, so the mix, the priors and the
calibration are learnt on data the n-gram model did not see. scripts/train_variety.py fits both
on tests/data/variety/train.tsv and writes transcrevai/data/variety_model.json; without that
file the markers decide alone. Inference is pure Python (no scikit-learn import).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from transcrevai.types import VarietyLabel, VarietyResult
from transcrevai.variety_markers import CompiledMarker, compile_markers, fold

LABELS: tuple[VarietyLabel, ...] = ("pt-BR", "pt-PT", "pt-AF")
DEFAULT_LABEL: VarietyLabel = "pt-BR"
MODEL_PATH = Path(__file__).parent / "data" / "variety_model.json"
MIN_WORDS = 3  # below this the text says too little: confidence is capped
SHORT_TEXT_MAX_CONFIDENCE = 0.4
MAX_CHARS = 2_400  # longer transcripts are sampled (three spread windows) to stay fast
MAX_EVIDENCE = 12
MAX_SHOWN = 3  # distinct matched words shown per marker in the evidence
INSUFFICIENT = "insufficient text"
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_TOKEN = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"[.!?…]+(?:\s|$)")


@dataclass(frozen=True)
class MarkerHit:
    """A marker that fired: what it matched (up to MAX_SHOWN distinct words), group, count."""

    text: str
    group: str
    weights: tuple[float, float, float]
    count: int

    @property
    def factor(self) -> float:
        """Repeats add evidence with diminishing returns (1, 1.5, then 2 at most)."""
        return min(1.0 + 0.5 * (self.count - 1), 2.0)


@dataclass(frozen=True)
class StackModel:
    """Word n-gram weights plus the stacker that mixes them with the marker scores."""

    word_n: int
    intercept: tuple[float, float, float]
    coef: dict[str, tuple[float, float, float]]
    stack_w: tuple[tuple[float, ...], ...]  # per label: 3 marker weights, then 3 n-gram weights
    stack_b: tuple[float, float, float]

    def ngram_logits(self, text: str) -> list[float]:
        """The n-gram model's logits (binary features, L2-normalised, as in training)."""
        grams = {g for g in word_ngrams(text, self.word_n) if g in self.coef}
        out = list(self.intercept)
        if grams:
            norm = 1.0 / math.sqrt(len(grams))
            for g in grams:
                for i, c in enumerate(self.coef[g]):
                    out[i] += c * norm
        return out

    def logits(self, hand: list[float], ngram: list[float]) -> list[float]:
        x = hand + ngram
        return [
            b + sum(w * v for w, v in zip(ws, x, strict=True))
            for ws, b in zip(self.stack_w, self.stack_b, strict=True)
        ]


def normalize(text: str) -> tuple[str, str]:
    """(lower-case accented text, folded text), NFC and with whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u00a0", " ")
    lowered = " ".join(text.lower().split())
    return lowered, fold(lowered)


def word_ngrams(text: str, n: int = 2) -> list[str]:
    """Folded words and word n-grams up to ``n``, with sentence-edge marks (the n-gram features)."""
    out: list[str] = []
    for sentence in _SENTENCE.split(fold(text)):
        words = _WORD.findall(sentence)
        if not words:
            continue
        out.extend(words)
        padded = ["<s>", *words, "</s>"]
        for k in range(2, n + 1):
            out.extend(" ".join(padded[i : i + k]) for i in range(len(padded) - k + 1))
    return out


@lru_cache(maxsize=1)
def _markers() -> tuple[CompiledMarker, ...]:
    return compile_markers()


def _previous_word(text: str, start: int) -> str:
    words = text[max(0, start - 40) : start].split()
    return words[-1].strip(",;:") if words else ""


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _token_index(text: str) -> dict[str, list[int]]:
    """token -> [count, start, end of its first occurrence]."""
    index: dict[str, list[int]] = {}
    for m in _TOKEN.finditer(text):
        entry = index.get(m.group())
        if entry is None:
            index[m.group()] = [1, m.start(), m.end()]
        else:
            entry[0] += 1
    return index


def _whole_word(text: str, start: int, end: int) -> str:
    while start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] == "-"):
        start -= 1
    while end < len(text) and (_is_word_char(text[end]) or text[end] == "-"):
        end += 1
    return text[start:end]


def _regex_matches(cm: CompiledMarker, haystack: str) -> Iterator[tuple[int, int]]:
    """Spans where ``cm.regex`` matches, with the checks the fast-scan rewrite moved out."""
    assert cm.regex is not None
    offset = 2 if cm.sentence_start else 0
    for m in cm.regex.finditer(". " + haystack if cm.sentence_start else haystack):
        start, end = max(m.start() - offset, 0), m.end() - offset
        if (
            cm.word_start
            and start
            and (_is_word_char(haystack[start - 1]) or haystack[start - 1] == "-")
        ):
            continue
        if cm.blockers and fold(_previous_word(haystack, start)) in cm.blockers:
            continue
        if cm.marker.exclude and _whole_word(haystack, start, end) in cm.marker.exclude:
            continue
        yield start, end


def find_markers(text: str) -> list[MarkerHit]:
    """Every hand-written marker that fires in ``text``, with its match count."""
    lowered, folded = normalize(text)
    indexes = {True: _token_index(lowered), False: _token_index(folded)}
    vocab = {k: frozenset(v) for k, v in indexes.items()}
    hits: list[MarkerHit] = []
    for cm in _markers():
        accented = cm.marker.accented
        haystack, index, present = (
            (lowered if accented else folded),
            indexes[accented],
            vocab[accented],
        )
        count, spans = 0, []
        if cm.marker.per_token and cm.regex is not None:
            words = frozenset(
                t for t in present if cm.regex.fullmatch(t) and t not in cm.marker.exclude
            )
        else:
            words = cm.words & present
        for word in words:
            n, start, end = index[word]
            count += n
            spans.append((start, end))
        if cm.regex is not None and not cm.marker.per_token:
            if cm.needs is None or not cm.needs.isdisjoint(present):
                for span in _regex_matches(cm, haystack):
                    count += 1
                    spans.append(span)
        if count:
            shown = dict.fromkeys(_whole_word(lowered, *sp).strip(" .!?…,") for sp in sorted(spans))
            text_shown = "', '".join(list(shown)[:MAX_SHOWN])
            hits.append(MarkerHit(text_shown, cm.marker.group, cm.marker.weights, count))
    return hits


def marker_scores(hits: Iterable[MarkerHit]) -> list[float]:
    """Summed marker weights per label, in ``LABELS`` order."""
    total = [0.0, 0.0, 0.0]
    for h in hits:
        for i, wt in enumerate(h.weights):
            total[i] += wt * h.factor
    return total


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> StackModel | None:
    """The fitted model, or None when the file is absent (the markers then decide alone)."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    order = [data["classes"].index(lab) for lab in LABELS]

    def reorder(v: list[float]) -> tuple[float, float, float]:
        return (v[order[0]], v[order[1]], v[order[2]])

    return StackModel(
        word_n=int(data["word_n"]),
        intercept=reorder(data["intercept"]),
        coef={g: reorder(c) for g, c in data["coef"].items()},
        stack_w=tuple(tuple(float(v) for v in data["stack_coef"][i]) for i in order),
        stack_b=reorder(data["stack_intercept"]),
    )


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def _sample(text: str, max_chars: int = MAX_CHARS) -> str:
    """Three windows (start, middle, end) of a long transcript: a few sentences already decide."""
    if len(text) <= max_chars:
        return text
    part = max_chars // 3
    starts = (0, (len(text) - part) // 2, len(text) - part)
    return " … ".join(text[s : s + part] for s in starts)


def _evidence(hits: list[MarkerHit]) -> list[str]:
    ranked = sorted(hits, key=lambda h: -max(h.weights) * h.factor)
    out = []
    for h in ranked[:MAX_EVIDENCE]:
        favoured = LABELS[max(range(3), key=lambda i: h.weights[i])]
        times = f" x{h.count}" if h.count > 1 else ""
        out.append(f"'{h.text}'{times} ({h.group} -> {favoured})")
    return out


def identify(text: str) -> VarietyResult:
    """Label ``text`` pt-BR, pt-PT or pt-AF with a confidence and the markers that fired.

    Fewer than ``MIN_WORDS`` words gives confidence <= 0.4 and the evidence "insufficient
    text"; with no marker at all it then answers the default, pt-BR.
    """
    text = _sample(text or "")
    n_words = len(_WORD.findall(text))
    hits = find_markers(text) if n_words else []
    model = load_model()
    hand = marker_scores(hits)
    evidence = _evidence(hits)
    if model is None or (n_words < MIN_WORDS and not hits):
        probs = softmax(hand)  # uniform when nothing fired: too little text to go on
    else:
        ngram = model.ngram_logits(text)
        probs = softmax(model.logits(hand, ngram))
        if n_words:
            g_probs = softmax(ngram)
            g_best = max(range(3), key=lambda i: g_probs[i])
            evidence.append(f"word n-grams -> {LABELS[g_best]} ({g_probs[g_best]:.2f})")
    best = max(range(3), key=lambda i: probs[i])
    confidence = probs[best]
    if n_words < MIN_WORDS:
        evidence.insert(0, INSUFFICIENT)
        if not hits:
            best = LABELS.index(DEFAULT_LABEL)
        confidence = min(probs[best], SHORT_TEXT_MAX_CONFIDENCE)
    return VarietyResult(
        label=LABELS[best],
        confidence=round(confidence, 4),
        scores={lab: round(p, 4) for lab, p in zip(LABELS, probs, strict=True)},
        evidence=evidence,
    )


def load_tsv(path: Path | str) -> list[tuple[str, str]]:
    """(label, text) pairs from a UTF-8 ``label<TAB>text`` file with a header line."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            label, text = line.split("\t", 1)
            rows.append((label.strip(), text.strip()))
    return rows


def evaluate_variety(
    items: Iterable[tuple[str, str]],
) -> tuple[float, dict[str, dict[str, int]]]:
    """Accuracy and confusion matrix ``{gold: {predicted: count}}`` over (label, text) pairs."""
    confusion: dict[str, dict[str, int]] = {g: {p: 0 for p in LABELS} for g in LABELS}
    total = correct = 0
    for gold, text in items:
        if gold not in confusion:
            raise ValueError(f"unknown variety label {gold!r}; expected one of {LABELS}")
        pred = identify(text).label
        confusion[gold][pred] += 1
        total += 1
        correct += pred == gold
    return (correct / total if total else 0.0), confusion
