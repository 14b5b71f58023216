"""Subtitle cue building shared by SRT and WebVTT.

Readable subtitles need short lines (≤ 42 characters, ≤ 2 lines per cue, the common broadcast
rule), so long Whisper segments are split into several cues. Cue times come from word
timestamps where the segment has them, else from each word's character position.
"""

from __future__ import annotations

from dataclasses import dataclass

from transcrevai.formats._common import spoken, to_ms
from transcrevai.types import Segment, Transcript

MAX_LINE = 42
MAX_LINES = 2
MAX_NAME = 20  # longest speaker name shown in a prefix, so a prefix never fills a line
MIN_SHOW_MS = 500  # display time given to a zero-length cue when nothing follows closely


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    speaker: str | None


@dataclass(frozen=True)
class _Token:
    text: str
    start_ms: int
    end_ms: int
    glue: bool = False  # continues the previous token (a cut long word): no space before it


def short_name(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _split_long(tok: _Token, width: int) -> list[_Token]:
    """A token wider than a line (a URL, a run of digits) cut into line-sized pieces."""
    if len(tok.text) <= width:
        return [tok]
    n = len(tok.text)
    span = tok.end_ms - tok.start_ms
    return [
        _Token(
            tok.text[i : i + width],
            tok.start_ms + span * i // n,
            tok.start_ms + span * min(i + width, n) // n,
            glue=i > 0,
        )
        for i in range(0, n, width)
    ]


def _tokens(seg: Segment) -> list[_Token]:
    timed = [(w.word.strip(), to_ms(w.start), to_ms(w.end)) for w in seg.words]
    timed = [t for t in timed if t[0]]
    if timed:
        return [_Token(text, s, max(s, e)) for text, s, e in timed]
    words = seg.text.split()
    total = len(" ".join(words))
    start, end = to_ms(seg.start), max(to_ms(seg.start), to_ms(seg.end))
    out, offset = [], 0
    for word in words:
        a, b = offset, offset + len(word)
        out.append(
            _Token(word, start + (end - start) * a // total, start + (end - start) * b // total)
        )
        offset = b + 1
    return out


def _join(tokens: list[_Token]) -> str:
    return "".join(("" if i == 0 or t.glue else " ") + t.text for i, t in enumerate(tokens))


def _length(tokens: list[_Token]) -> int:
    return len(_join(tokens))


def _balanced(tokens: list[_Token], first_width: int, width: int) -> list[list[_Token]]:
    """Two lines of near-equal length (fits the limits; the greedy fill guarantees one exists)."""
    best: list[list[_Token]] | None = None
    best_score = 0
    for k in range(1, len(tokens)):
        a, b = tokens[:k], tokens[k:]
        la, lb = _length(a), _length(b)
        if la <= first_width and lb <= width:
            score = max(la + MAX_LINE - first_width, lb)
            if best is None or score < best_score:
                best, best_score = [a, b], score
    return best if best is not None else [tokens]


def _pack(tokens: list[_Token], first_width: int) -> list[list[list[_Token]]]:
    """Greedy fill of lines, two lines to a cue; each cue's two lines then balanced."""
    cues: list[list[list[_Token]]] = []
    lines: list[list[_Token]] = []
    line: list[_Token] = []
    for tok in tokens:
        width = first_width if not lines else MAX_LINE
        if line and _length([*line, tok]) > width:
            lines.append(line)
            line = []
            if len(lines) == MAX_LINES:
                cues.append(lines)
                lines = []
        line.append(tok)
    if line:
        lines.append(line)
    if lines:
        cues.append(lines)
    return [
        _balanced([t for ln in cue for t in ln], first_width, MAX_LINE) if len(cue) > 1 else cue
        for cue in cues
    ]


def _segment_cues(seg: Segment, speaker: str | None, prefix: str) -> list[Cue]:
    first_width = MAX_LINE - len(prefix)
    tokens = [piece for tok in _tokens(seg) for piece in _split_long(tok, first_width)]
    cues = []
    for lines in _pack(tokens, first_width):
        flat = [t for ln in lines for t in ln]
        texts = [_join(ln) for ln in lines]
        texts[0] = prefix + texts[0]
        start = flat[0].start_ms
        cues.append(Cue(start, max(start, flat[-1].end_ms), tuple(texts), speaker))
    return cues


def _give_time(cues: list[Cue]) -> list[Cue]:
    """Zero-length cues (players skip them, parsers reject them) get display time up to the
    next cue's start, at most MIN_SHOW_MS, at least 1 ms."""
    out = []
    for i, cue in enumerate(cues):
        if cue.end_ms <= cue.start_ms:
            later = [c.start_ms for c in cues[i + 1 :] if c.start_ms > cue.start_ms]
            end = cue.start_ms + MIN_SHOW_MS
            if later:
                end = min(end, later[0])
            cue = Cue(cue.start_ms, max(end, cue.start_ms + 1), cue.lines, cue.speaker)
        out.append(cue)
    return out


def build_cues(transcript: Transcript, *, name_prefix: bool) -> list[Cue]:
    """Cues in time order. ``name_prefix`` puts ``[NAME] `` before each cue's first line
    (SRT has no speaker markup); otherwise the speaker is only carried on the cue."""
    cues: list[Cue] = []
    for seg in spoken(transcript):
        name = transcript.display_speaker(seg.speaker)
        prefix = f"[{short_name(name)}] " if name_prefix and name else ""
        cues.extend(_segment_cues(seg, name, prefix))
    cues.sort(key=lambda c: (c.start_ms, c.end_ms))
    return _give_time(cues)
