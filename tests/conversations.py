"""Conversations with exact reference speaker turns, for diarization tests and benchmarks.

Two sources:
- ``mls_conversation``: real human voices from ``../shared/audio/mls-pt/<speaker>/*.wav``
  (ten LibriVox readers). Turns of 2-8 s are cut from each speaker's clips at the quietest
  20 ms frame near the target length, trimmed of leading/trailing silence (so the reference
  times are the speech extent), and joined with 0.2-1 s pauses, optionally with light noise.
  Deterministic for a given seed.
- ``espeak_conversation``: espeak-ng / MBROLA voices through ``tests/synth.conversation``.

``speech_regions`` runs diarization's VAD pass (``transcrevai.diarization.windows``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.synth import SHARED_AUDIO, conversation
from transcrevai.types import SpeakerTurn

SR = 16000
MLS_DIR = SHARED_AUDIO / "mls-pt"
FRAME = 320  # 20 ms
SENTENCES = [
    "Bom dia, eu gostaria de marcar uma consulta para a próxima semana.",
    "Claro, temos horários na terça-feira de manhã ou na quinta à tarde.",
    "Prefiro a quinta-feira, se possível depois das três horas.",
    "Perfeito, vou reservar às quatro. Qual é o seu nome completo?",
    "Meu nome é Ana Paula Ferreira, e o telefone continua o mesmo.",
    "Obrigado, a senhora vai receber uma mensagem de confirmação.",
    "Ótimo. Preciso levar algum documento ou exame anterior?",
    "Traga apenas a carteirinha do convênio e um documento com foto.",
    "Entendi. E se eu precisar remarcar, posso ligar para este número?",
    "Pode sim, atendemos de segunda a sexta, das oito às dezoito horas.",
]


@dataclass
class Conversation:
    audio: np.ndarray
    turns: list[SpeakerTurn]
    speakers: list[str] = field(default_factory=list)
    sr: int = SR

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sr


def have_mls() -> bool:
    return MLS_DIR.is_dir() and any(MLS_DIR.glob("*/*.wav"))


def mls_speakers() -> list[str]:
    return sorted(p.name for p in MLS_DIR.iterdir() if p.is_dir() and any(p.glob("*.wav")))


@lru_cache(maxsize=16)
def _clips(speaker: str) -> tuple[np.ndarray, ...]:
    out = []
    for path in sorted((MLS_DIR / speaker).glob("*.wav")):
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        if sr != SR:
            raise ValueError(f"{path} is {sr} Hz, expected {SR}")
        out.append(audio.mean(axis=1))
    return tuple(out)


def _frame_energy(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return np.square(x[: n * FRAME].reshape(n, FRAME)).mean(axis=1)


def _trim(x: np.ndarray, top_db: float = 35.0) -> np.ndarray:
    """Drop leading/trailing 20 ms frames quieter than the piece's peak frame minus top_db."""
    e = _frame_energy(x)
    if e.size == 0 or e.max() <= 0:
        return x
    loud = np.flatnonzero(10 * np.log10(e / e.max() + 1e-12) > -top_db)
    return x[loud[0] * FRAME : (loud[-1] + 1) * FRAME]


class _Reader:
    """Walks one speaker's clips, handing out pieces cut at low-energy points."""

    def __init__(self, speaker: str, rng: np.random.Generator) -> None:
        self.clips = _clips(speaker)
        self.clip = int(rng.integers(len(self.clips)))
        self.pos = 0

    def take(self, seconds: float, rng: np.random.Generator) -> np.ndarray:
        for _ in range(2 * len(self.clips)):
            clip = self.clips[self.clip]
            if len(clip) - self.pos >= 2.0 * SR:
                break
            self.clip, self.pos = (self.clip + 1) % len(self.clips), 0
        clip = clip[self.pos :]
        target = int(seconds * SR)
        if target + SR // 2 >= len(clip):
            cut = len(clip)
        else:
            lo, hi = max(target - SR // 2, 2 * SR), min(target + SR // 2, len(clip))
            e = _frame_energy(clip[lo:hi])
            cut = lo + int(np.argmin(e)) * FRAME + FRAME // 2 if e.size else target
        self.pos += cut
        return _trim(clip[:cut])


def mls_conversation(
    seed: int,
    n_speakers: int | None = None,
    duration: tuple[float, float] = (60.0, 120.0),
    turn: tuple[float, float] = (2.0, 8.0),
    pause: tuple[float, float] = (0.2, 1.0),
    noise_snr_db: float | None = None,
    speakers: list[str] | None = None,
) -> Conversation:
    """A real-voice conversation (2-4 mls-pt readers unless given) with exact reference turns."""
    rng = np.random.default_rng(seed)
    pool = mls_speakers()
    if speakers is None:
        k = n_speakers or int(rng.integers(2, 5))
        speakers = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
    readers = {s: _Reader(s, rng) for s in speakers}
    target = float(rng.uniform(*duration))
    order = list(rng.permutation(speakers))  # everyone speaks early on
    chunks = [np.zeros(int(0.3 * SR), np.float32)]
    turns: list[SpeakerTurn] = []
    t = len(chunks[0]) / SR
    prev = None
    while t < target:
        others = [s for s in speakers if s != prev] or speakers  # one speaker: monologue
        spk = order.pop(0) if order else str(rng.choice(others))
        piece = readers[spk].take(float(rng.uniform(*turn)), rng)
        turns.append(SpeakerTurn(start=round(t, 3), end=round(t + len(piece) / SR, 3), speaker=spk))
        gap = np.zeros(int(rng.uniform(*pause) * SR), np.float32)
        chunks += [piece, gap]
        t += (len(piece) + len(gap)) / SR
        prev = spk
    audio = np.concatenate(chunks)
    if noise_snr_db is not None:
        power = float(np.mean(np.concatenate([c for c in chunks if c.any()]) ** 2))
        noise = rng.standard_normal(len(audio)).astype(np.float32)
        audio = audio + noise * np.float32(np.sqrt(power / 10 ** (noise_snr_db / 10)))
    return Conversation(audio.astype(np.float32), turns, list(speakers))


def espeak_conversation(
    voices: list[str], n_turns: int = 8, seed: int = 0, pause: float = 0.6
) -> Conversation:
    """Synthetic conversation cycling through ``voices`` (speaker label = voice name)."""
    rng = np.random.default_rng(seed)
    texts = [SENTENCES[i] for i in rng.permutation(len(SENTENCES))]
    parts = [(voices[i % len(voices)], texts[i % len(texts)]) for i in range(n_turns)]
    audio, ref = conversation(parts, pause=pause)
    turns = [SpeakerTurn(start=r.start, end=r.end, speaker=r.speaker) for r in ref]
    return Conversation(audio, turns, list(dict.fromkeys(voices)))


def speech_regions(audio: np.ndarray) -> list[tuple[float, float]]:
    """Speech regions in seconds, from diarization's VAD pass (Silero, 200 ms pad)."""
    from transcrevai.diarization.windows import speech_regions as diarization_vad

    return diarization_vad(audio, SR)


def rttm_lines(turns: list[SpeakerTurn], name: str = "conv") -> list[str]:
    """Reference turns as RTTM lines (handy when inspecting a failing case by hand)."""
    return [
        f"SPEAKER {name} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>"
        for t in turns
    ]


def write(conv: Conversation, path: Path) -> Path:
    sf.write(str(path), conv.audio, conv.sr, subtype="PCM_16")
    return path


def der(reference: list[SpeakerTurn], hypothesis: list[SpeakerTurn], collar: float = 0.25) -> float:
    """Diarization error rate: transcrevai.evaluation.der when present, else a frame-based one.

    The fallback (10 ms frames, single-speaker reference, ``collar`` s either side of every
    reference boundary not scored, optimal one-to-one speaker mapping) is temporary until the
    shared metric lands.
    """
    try:
        from transcrevai.evaluation.der import der as shared_der
    except ImportError:
        return _frame_der(reference, hypothesis, collar)
    return float(shared_der(reference, hypothesis, collar=collar).der)


def _frame_der(reference: list[SpeakerTurn], hypothesis: list[SpeakerTurn], collar: float) -> float:
    from scipy.optimize import linear_sum_assignment

    step = 0.01
    end = max([t.end for t in reference + hypothesis] + [0.0])
    n = int(np.ceil(end / step)) + 1
    times = (np.arange(n) + 0.5) * step

    def labels(turns: list[SpeakerTurn]) -> tuple[np.ndarray, list[str]]:
        names = sorted({t.speaker for t in turns})
        lab = np.full(n, -1)
        for t in turns:
            lab[(times >= t.start) & (times < t.end)] = names.index(t.speaker)
        return lab, names

    ref, rnames = labels(reference)
    hyp, hnames = labels(hypothesis)
    scored = np.ones(n, bool)
    for t in reference:
        for b in (t.start, t.end):
            scored &= np.abs(times - b) > collar
    ref, hyp = ref[scored], hyp[scored]
    total = int((ref >= 0).sum())
    if total == 0:
        return 0.0
    both = (ref >= 0) & (hyp >= 0)
    overlap = np.zeros((len(rnames), max(len(hnames), 1)))
    np.add.at(overlap, (ref[both], hyp[both]), 1)
    r, c = linear_sum_assignment(-overlap)
    correct = overlap[r, c].sum()
    miss = int(((ref >= 0) & (hyp < 0)).sum())
    fa = int(((ref < 0) & (hyp >= 0)).sum())
    confusion = int(both.sum() - correct)
    return (miss + fa + confusion) / total
