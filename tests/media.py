"""Media files made at test time with espeak-ng and ffmpeg (nothing binary is committed).

Every encoder call goes through the ffmpeg command line, an implementation independent of
the PyAV decoding under test, so a decoder bug cannot hide behind a matching encoder bug.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from tests.synth import have_espeak, synthesize

SR = 16000

# name → (file suffix, ffmpeg output arguments); every one is a stereo-capable audio codec
AUDIO_FORMATS: dict[str, tuple[str, list[str]]] = {
    "wav": (".wav", ["-c:a", "pcm_s16le"]),
    "mp3": (".mp3", ["-c:a", "libmp3lame", "-b:a", "96k"]),
    "m4a": (".m4a", ["-c:a", "aac", "-b:a", "96k"]),
    "opus": (".ogg", ["-c:a", "libopus", "-b:a", "64k"]),
    "flac": (".flac", ["-c:a", "flac"]),
    "webm": (".webm", ["-c:a", "libopus", "-b:a", "64k"]),
}


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def have_tools() -> bool:
    return have_ffmpeg() and have_espeak()


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg quietly; fail loudly with its own message."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


@lru_cache(maxsize=4)
def _speech(text: str) -> np.ndarray:
    return synthesize(text)  # 16 kHz mono


def stereo_speech(rate: int, text: str = "Bom dia, a reunião começa agora.") -> np.ndarray:
    """Speech on the left channel, a quiet 220 Hz tone on the right: (frames, 2) at ``rate``.

    The two channels differ so a decoder that drops one instead of mixing is caught.
    """
    speech = soxr.resample(_speech(text), SR, rate).astype(np.float32)
    speech = np.concatenate(
        [np.zeros(rate // 4, np.float32), speech, np.zeros(rate // 4, np.float32)]
    )
    t = np.arange(speech.size) / rate
    tone = (0.1 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    return np.stack([0.8 * speech, tone], axis=1)


def mono_reference(stereo: np.ndarray, rate: int) -> np.ndarray:
    """What a correct decoder must return: the channel mean at 16 kHz."""
    mono = stereo.mean(axis=1).astype(np.float32)
    return soxr.resample(mono, rate, SR).astype(np.float32) if rate != SR else mono


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    sf.write(str(path), audio, rate, subtype="PCM_16")
    return path


def encode(src: Path, dst: Path, args: list[str]) -> Path:
    ffmpeg("-i", src, *args, dst)
    return dst


def video_with_audio(src_wav: Path, dst: Path, picture_seconds: float | None = None) -> Path:
    """A video of ffmpeg's test pattern whose sound is ``src_wav``: H.264 + AAC, or VP8 + Opus
    for .webm. The picture ends with the sound unless ``picture_seconds`` makes it longer."""
    if dst.suffix == ".webm":
        codecs = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                  "-c:a", "libopus", "-b:a", "64k"]  # fmt: skip
    else:
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                  "-c:a", "aac", "-b:a", "96k"]  # fmt: skip
    length = ["-shortest"] if picture_seconds is None else ["-t", f"{picture_seconds}"]
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-i", src_wav,
        "-map", "0:v", "-map", "1:a", *length, *codecs, dst,
    )  # fmt: skip
    return dst


def video_without_audio(dst: Path, seconds: float = 2.0) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size=64x48:rate=5:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", dst,
    )  # fmt: skip
    return dst


def silence(dst: Path, seconds: float, rate: int = 8000, args: list[str] | None = None) -> Path:
    """Digital silence from ffmpeg's ``anullsrc`` (codec from ``args`` or the file suffix)."""
    ffmpeg(
        "-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=mono", "-t", f"{seconds}",
        *(args or []), dst,
    )  # fmt: skip
    return dst
