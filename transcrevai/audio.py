"""Decode any upload PyAV/ffmpeg understands into 16 kHz mono float32, or say clearly why not.

The container format is sniffed by ffmpeg from the bytes, never trusted from the file name.
Limits (size, duration) are enforced before and while decoding so a huge file cannot
exhaust memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .errors import (
    AudioError,
    EmptyAudioError,
    NoAudioStreamError,
    TooLargeError,
    TooLongError,
    UnsupportedMediaError,
)

SAMPLE_RATE = 16000
# A file that decodes to less than this share of its declared duration is called truncated.
_TRUNCATION_RATIO = 0.9
# ffmpeg demuxers that turn text files (picked by name: .txt, .nfo, .bin…) and still images
# into a "video" stream; such an upload is not media, not a video without sound.
_NOT_MEDIA_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf", "image2", "image2pipe"})


@dataclass
class DecodedAudio:
    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    duration: float
    container: str
    codec: str
    source_sample_rate: int
    source_channels: int

    @property
    def is_silent(self) -> bool:
        return self.samples.size == 0 or float(np.max(np.abs(self.samples))) < 1e-4


def check_size(n_bytes: int, max_mb: float) -> None:
    if n_bytes == 0:
        raise EmptyAudioError("The uploaded file is empty (0 bytes).")
    if n_bytes > max_mb * 1024 * 1024:
        raise TooLargeError(
            f"The uploaded file is {n_bytes / 1048576:.1f} MB; the limit is {max_mb:g} MB."
        )


def load_audio(
    source: Path | bytes,
    *,
    max_duration_s: float = float("inf"),
    max_mb: float = float("inf"),
) -> DecodedAudio:
    """Decode ``source`` (a path or raw bytes) to 16 kHz mono; raise an AudioError subclass."""
    size = len(source) if isinstance(source, bytes) else _file_size(source)
    check_size(size, max_mb)
    head = source[:65536] if isinstance(source, bytes) else _read_head(source)
    _check_riff_complete(head, size)
    handle: io.BytesIO | str = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        container = av.open(handle, mode="r", metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        raise UnsupportedMediaError(
            "The file is not a recognised audio or video format (it could not be probed)."
        ) from exc
    except (av.error.FFmpegError, ValueError) as exc:
        raise UnsupportedMediaError(
            f"The file could not be opened as media: {_ffmpeg_reason(exc)}"
        ) from exc
    with container:
        return _decode_container(container, max_duration_s)


def _read_head(path: Path, n: int = 65536) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _check_riff_complete(head: bytes, size: int) -> None:
    """ffmpeg sizes a WAV by its file length, so a cut-off WAV decodes silently: check the header."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, chunk_size = (
            head[pos : pos + 4],
            int.from_bytes(head[pos + 4 : pos + 8], "little"),
        )
        if chunk_id == b"data":
            expected_end = pos + 8 + chunk_size
            # 0 and 0xFFFFFFFF mark streamed WAVs whose size was never written
            if chunk_size not in (0, 0xFFFFFFFF) and expected_end > size:
                raise AudioError(
                    f"The WAV file is truncated: its header declares {chunk_size} bytes of audio "
                    f"but the file ends after {max(0, size - pos - 8)}."
                )
            return
        pos += 8 + chunk_size + (chunk_size & 1)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise AudioError("The uploaded file could not be read.") from exc


def _ffmpeg_reason(exc: Exception) -> str:
    # ffmpeg messages may carry the temp path; keep only the reason.
    msg = getattr(exc, "strerror", None) or exc.__class__.__name__
    return str(msg)


def _declared_duration(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    # the container's duration is the longest stream's: only the audio's when it is alone
    # (a Matroska video whose sound stops early is not truncated audio)
    if container.duration is not None and len(container.streams) == 1:
        return container.duration / 1_000_000
    return None


def _decode_container(
    container: av.container.InputContainer, max_duration_s: float
) -> DecodedAudio:
    if not container.streams.audio:
        fmt = container.format.name
        if fmt in _NOT_MEDIA_FORMATS or fmt.endswith("_pipe"):  # *_pipe: image parsers
            raise UnsupportedMediaError(
                "The file is not a recognised audio or video format (it is text or an image)."
            )
        if container.streams.video:
            raise NoAudioStreamError("The video has no audio track to transcribe.")
        raise UnsupportedMediaError("The file holds no audio stream.")
    stream = container.streams.audio[0]
    declared = _declared_duration(container, stream)
    if declared is not None and declared > max_duration_s * 1.01:
        raise TooLongError(
            f"The audio lasts {declared:.1f} s; the limit is {max_duration_s:.1f} s."
        )
    codec = stream.codec_context.name if stream.codec_context else "unknown"
    in_rate = int(stream.codec_context.sample_rate or 0)
    in_channels = int(stream.codec_context.channels or 0)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    n_samples = 0
    last_frame_s = 0.0
    max_samples = max_duration_s * SAMPLE_RATE
    decode_error: Exception | None = None
    try:
        for frame in container.decode(stream):
            frame.pts = None
            last_frame_s = frame.samples / (frame.sample_rate or in_rate or SAMPLE_RATE)
            for out in resampler.resample(frame):
                arr = out.to_ndarray().reshape(-1)
                pieces.append(arr)
                n_samples += arr.size
            if n_samples > max_samples:
                raise TooLongError(
                    f"The audio lasts more than the limit of {max_duration_s:.0f} s."
                )
        for out in resampler.resample(None):
            arr = out.to_ndarray().reshape(-1)
            pieces.append(arr)
            n_samples += arr.size
    except TooLongError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        decode_error = exc
    samples = (
        np.concatenate(pieces).astype(np.float32) / 32768.0
        if pieces
        else np.zeros(0, dtype=np.float32)
    )
    duration = samples.size / SAMPLE_RATE
    if declared and 0 < duration - declared <= last_frame_s:
        # the last codec frame is padded (AAC: up to 1024 samples, 128 ms at 8 kHz) and
        # ffmpeg does not trim it; the container's declared duration is the true end
        samples = samples[: int(round(declared * SAMPLE_RATE))]
        duration = samples.size / SAMPLE_RATE
    if decode_error is not None and duration == 0:
        raise AudioError(
            f"The file is corrupt: its audio could not be decoded ({_ffmpeg_reason(decode_error)})."
        ) from decode_error
    if declared and declared > 0.5 and duration < declared * _TRUNCATION_RATIO:
        raise AudioError(
            f"The file looks truncated or corrupt: it declares {declared:.1f} s of audio "
            f"but only {duration:.1f} s could be decoded."
        )
    if duration == 0:
        raise EmptyAudioError("The file contains no audio samples (zero-length audio).")
    return DecodedAudio(
        samples=samples,
        duration=duration,
        container=container.format.name,
        codec=codec,
        source_sample_rate=in_rate,
        source_channels=in_channels,
    )
