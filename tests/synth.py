"""Synthetic speech with exact ground truth, generated at test time (espeak-ng / MBROLA).

Used by tests and benchmarks; never shipped. MBROLA voices are optional (licence forbids
shipping them) and callers skip with a stated reason where they are absent.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
SHARED_AUDIO = Path(__file__).resolve().parents[1].parent / "shared" / "audio"


def simple_wer(reference: str, hypothesis: str) -> float:
    """Normalised word error rate (lower-case, no punctuation) via jiwer."""
    import re
    import unicodedata

    import jiwer

    def norm(t: str) -> str:
        t = unicodedata.normalize("NFC", t).lower()
        return " ".join(re.sub(r"[^\w\s]", " ", t).split())

    return float(jiwer.wer(norm(reference), norm(hypothesis)))


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def have_mbrola(voice: str = "br1") -> bool:
    return Path(f"/usr/share/mbrola/{voice}").exists()


def synthesize(
    text: str, voice: str = "pt-br", speed: int = 150, pitch: int | None = None
) -> np.ndarray:
    """Speak ``text`` with espeak-ng (``voice`` may be ``mb-br1`` for MBROLA) → 16 kHz mono float32."""
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout"]
    if pitch is not None:
        cmd += ["-p", str(pitch)]
    wav = subprocess.run(cmd + [text], check=True, capture_output=True).stdout
    import io

    audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if sr != SR:
        import soxr

        audio = soxr.resample(audio, sr, SR).astype(np.float32)
    return audio


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), audio, sr, subtype="PCM_16")
    return path


@dataclass
class Turn:
    start: float
    end: float
    speaker: str
    text: str


def conversation(
    parts: list[tuple[str, str]], pause: float = 0.6, speed: int = 150
) -> tuple[np.ndarray, list[Turn]]:
    """Concatenate (voice, text) turns with pauses; returns audio and exact reference turns."""
    chunks: list[np.ndarray] = []
    turns: list[Turn] = []
    t = 0.3
    chunks.append(np.zeros(int(0.3 * SR), dtype=np.float32))
    for voice, text in parts:
        a = synthesize(text, voice=voice, speed=speed)
        # trim espeak's leading/trailing silence so reference times are exact
        nz = np.flatnonzero(np.abs(a) > 1e-3)
        if nz.size:
            a = a[nz[0] : nz[-1] + 1]
        turns.append(Turn(t, t + len(a) / SR, voice, text))
        chunks.append(a)
        t += len(a) / SR
        chunks.append(np.zeros(int(pause * SR), dtype=np.float32))
        t += pause
    return np.concatenate(chunks), turns
