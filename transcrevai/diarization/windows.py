"""Fixed-length analysis windows inside VAD speech regions, and cutting them from the audio.

Windows never straddle a non-speech gap, so a window's features describe one stretch of speech;
the union of the windows is exactly the speech, which is what turn building relies on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_REGION = 0.05  # seconds; shorter VAD blips carry no usable voice information
VAD_PAD_MS = 200  # diarization wants tight regions (measured: 400 ms pad doubles the DER)
VAD_MIN_SILENCE_MS = 160


def speech_regions(audio: np.ndarray, sr: int = 16000) -> list[tuple[float, float]]:
    """Speech regions in seconds from faster-whisper's Silero VAD with diarization settings.

    Transcription pads regions by 400 ms (faster-whisper's default) so no word is clipped;
    for diarization that padding merges regions across short turn changes and puts silence
    into windows, so it runs its own pass (about 300x real time) with a 200 ms pad.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        return []
    opts = VadOptions(min_silence_duration_ms=VAD_MIN_SILENCE_MS, speech_pad_ms=VAD_PAD_MS)
    return [(c["start"] / sr, c["end"] / sr) for c in get_speech_timestamps(audio, opts, sr)]


def plan_windows(
    speech: Sequence[tuple[float, float]],
    duration: float,
    win: float = 1.5,
    hop: float = 0.75,
) -> list[tuple[float, float]]:
    """Windows of ``win`` s every ``hop`` s inside each speech region (seconds), in time order.

    A region up to ``win`` long gets one window equal to the region; a longer one gets windows
    from its start with the last window aligned to its end, so every speech frame is covered.
    """
    if win <= 0 or hop <= 0:
        raise ValueError("win and hop must be positive")
    out: list[tuple[float, float]] = []
    for s, e in sorted((max(0.0, float(a)), min(float(duration), float(b))) for a, b in speech):
        if e - s < MIN_REGION:
            continue
        if out and s < out[-1][1]:  # overlapping regions: continue after the last window
            s = out[-1][1]
            if e - s < MIN_REGION:
                continue
        if e - s <= win:
            out.append((round(s, 4), round(e, 4)))
            continue
        n = int(np.floor((e - s - win) / hop)) + 1
        starts = [s + i * hop for i in range(n)]
        if starts[-1] + win < e - 1e-6:
            starts.append(e - win)
        out.extend((round(a, 4), round(a + win, 4)) for a in starts)
    return out


def cut_windows(
    audio: np.ndarray, windows: Sequence[tuple[float, float]], sr: int = 16000
) -> list[np.ndarray]:
    """The samples of each window as a contiguous float32 array (copied, safe to ship)."""
    audio = np.asarray(audio, dtype=np.float32)
    n = len(audio)
    clips = []
    for s, e in windows:
        a = min(max(int(round(s * sr)), 0), n)
        b = min(max(int(round(e * sr)), a), n)
        clips.append(np.ascontiguousarray(audio[a:b]))
    return clips
