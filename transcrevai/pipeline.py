"""The one transcription pipeline: VAD → batched ASR → diarization → speakers → variety.

It is written against two small async backends so the same code runs in-process (CLI,
benchmarks) and inside the BentoML service (where the backends call the runners).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import numpy as np

from .asr import ChunkJob, ChunkResult
from .audio import SAMPLE_RATE, DecodedAudio
from .errors import InvalidRequestError
from .types import ModelInfo, Segment, SpeakerTurn, TranscribeOptions, Transcript, Word
from .vad import SpeechChunk, chunk_speech

Progress = Callable[[str, float], Any]


class AsrBackend(Protocol):
    async def speech_regions(self, audio: np.ndarray) -> list[tuple[int, int]]: ...
    async def detect_language(self, audio: np.ndarray) -> tuple[str, float]: ...
    async def transcribe_chunks(self, jobs: list[ChunkJob]) -> list[ChunkResult]: ...
    async def model_info(self) -> ModelInfo: ...


class DiarBackend(Protocol):
    async def speech_regions(self, audio: np.ndarray) -> list[tuple[float, float]]: ...
    async def embed(self, clips: list[np.ndarray]) -> np.ndarray: ...


def validate_language(language: str | None) -> str | None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language is None or language in ("", "auto"):
        return None
    code = language.strip().lower().split("-")[0].split("_")[0]
    if code not in _LANGUAGE_CODES:
        raise InvalidRequestError(
            f"Unknown language '{language}'. Use an ISO 639-1 code such as 'pt', or 'auto'."
        )
    return code


async def _notify(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is None:
        return
    out = progress(stage, min(max(fraction, 0.0), 1.0))
    if isinstance(out, Awaitable):
        await out


async def run_pipeline(
    audio: DecodedAudio,
    options: TranscribeOptions,
    asr: AsrBackend,
    diar: DiarBackend | None = None,
    *,
    progress: Progress | None = None,
    source_name: str | None = None,
    max_in_flight: int = 4,
    transcribe: bool = True,
) -> Transcript:
    """``transcribe=False`` runs diarization alone (speaker turns, e.g. for RTTM)."""
    timings: dict[str, float] = {}
    language = validate_language(options.language)
    samples = audio.samples

    t0 = time.perf_counter()
    await _notify(progress, "vad", 0.0)
    if options.vad_filter:
        regions = await asr.speech_regions(samples)
    else:
        regions = [(0, samples.size)] if samples.size else []
    chunks = chunk_speech(samples, regions)
    timings["vad"] = time.perf_counter() - t0
    info = await asr.model_info()
    transcript = Transcript(
        language=language, duration=round(audio.duration, 3), model=info, source_name=source_name
    )
    if not chunks:
        transcript.language = language or None
        transcript.timings = timings
        await _notify(progress, "done", 1.0)
        return transcript

    if options.diarize and diar is None:
        raise InvalidRequestError("Diarization is not available in this deployment.")
    # the two runners work at the same time: speaker windows need no transcript
    diarizing = (
        asyncio.create_task(_timed(diarize_audio(samples, audio.duration, options, diar)))
        if options.diarize and diar is not None
        else None
    )
    try:
        if transcribe:
            t0 = time.perf_counter()
            if language is None:
                language, prob = await asr.detect_language(chunks[0].audio)
                transcript.language_probability = round(prob, 4)
            else:
                transcript.language_probability = 1.0
            transcript.language = language
            timings["language"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            results = await _transcribe_chunks(
                chunks, options, language, asr, progress, max_in_flight
            )
            transcript.segments = _segments_from_chunks(chunks, results)
            transcript.rebuild_text()
            timings["asr"] = time.perf_counter() - t0
        if diarizing is not None:
            await _notify(progress, "diarization", 0.0)
            turns, timings["diarization"] = await diarizing
            from .assign import assign_speakers

            transcript = assign_speakers(transcript, turns)
            transcript.turns = turns
            if not transcript.speakers:
                transcript.speakers = list(dict.fromkeys(t.speaker for t in turns))
    finally:
        if diarizing is not None and not diarizing.done():
            diarizing.cancel()

    if options.detect_variety and (language or "").startswith("pt") and transcript.text:
        t0 = time.perf_counter()
        from .variety import identify

        transcript.variety = identify(transcript.text)
        timings["variety"] = time.perf_counter() - t0
    transcript.timings = {k: round(v, 4) for k, v in timings.items()}
    await _notify(progress, "done", 1.0)
    return transcript


async def _transcribe_chunks(
    chunks: list[SpeechChunk],
    options: TranscribeOptions,
    language: str,
    asr: AsrBackend,
    progress: Progress | None,
    max_in_flight: int,
) -> list[ChunkResult]:
    """One runner call per chunk, a few in flight: the runner batches them with other requests'."""
    total = sum(c.duration for c in chunks) or 1.0
    done = 0.0
    gate = asyncio.Semaphore(max(1, max_in_flight))

    async def one(chunk: SpeechChunk) -> ChunkResult:
        nonlocal done
        job = ChunkJob(
            audio=chunk.audio,
            language=language,
            task=options.task,
            beam_size=options.beam_size,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            hotwords=options.hotwords,
            temperature=options.temperature,
            speech=chunk.speech or None,
        )
        async with gate:
            (res,) = await asr.transcribe_chunks([job])
        done += chunk.duration
        await _notify(progress, "asr", done / total)
        return res

    await _notify(progress, "asr", 0.0)
    return list(await asyncio.gather(*(one(c) for c in chunks)))


def _segments_from_chunks(chunks: list[SpeechChunk], results: list[ChunkResult]) -> list[Segment]:
    segments: list[Segment] = []
    for chunk, res in zip(chunks, results):
        for raw in res.segments:
            words = []
            for w in raw.get("words") or []:
                words.append(
                    Word(
                        word=w["word"].strip(),
                        start=chunk.to_original(w["start"]),
                        end=chunk.to_original(w["end"]),
                        probability=round(float(w["probability"]), 4),
                    )
                )
            words = [w for w in words if w.word]
            text = raw["text"].strip()
            if not text:
                continue
            if words:
                start, end = words[0].start, words[-1].end
            else:
                start, end = chunk.to_original(raw["start"]), chunk.to_original(raw["end"])
            segments.append(
                Segment(
                    id=len(segments),
                    start=start,
                    end=max(end, start),
                    text=text,
                    words=words,
                    avg_logprob=round(raw["avg_logprob"], 4),
                    no_speech_prob=round(raw["no_speech_prob"], 4),
                    compression_ratio=round(raw["compression_ratio"], 4),
                    temperature=raw.get("temperature"),
                )
            )
    segments.sort(key=lambda s: s.start)
    for i, s in enumerate(segments):
        s.id = i
    return segments


async def _timed(coro: Awaitable[list[SpeakerTurn]]) -> tuple[list[SpeakerTurn], float]:
    t0 = time.perf_counter()
    out = await coro
    return out, time.perf_counter() - t0


async def diarize_audio(
    samples: np.ndarray,
    duration: float,
    options: TranscribeOptions,
    diar: DiarBackend,
    batch: int = 64,
) -> list[SpeakerTurn]:
    """Own VAD pass (tighter padding than ASR's) → windows → batched embeddings (runner) →
    clustering and turns (here: cheap, per request)."""
    from .diarization import cluster_and_segment, cut_windows, plan_windows

    speech = await diar.speech_regions(samples)
    windows = plan_windows(speech, duration)
    if not windows:
        return []
    clips = cut_windows(samples, windows, sr=SAMPLE_RATE)
    parts = await asyncio.gather(
        *(diar.embed(clips[i : i + batch]) for i in range(0, len(clips), batch))
    )
    feats = np.concatenate(parts, axis=0)
    return await asyncio.to_thread(
        cluster_and_segment,
        feats,
        windows,
        num_speakers=options.num_speakers,
        min_speakers=options.min_speakers,
        max_speakers=options.max_speakers,
        language=options.language,
    )
