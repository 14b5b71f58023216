"""In-process backends for the pipeline (CLI, benchmarks, the runners' own engines)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from .asr import ChunkJob, ChunkResult, Guards, WhisperEngine
from .audio import load_audio
from .model_manager import ModelManager
from .models import ResolvedModel, resolve_model
from .settings import Settings, get_settings
from .types import ModelInfo, TranscribeOptions, Transcript


def whisper_manager(settings: Settings, model: str | None = None) -> ModelManager[WhisperEngine]:
    """A managed engine for the configured model (resolved once, loaded lazily)."""
    resolved: list[ResolvedModel] = []

    def load() -> WhisperEngine:
        if not resolved:
            resolved.append(
                resolve_model(
                    model or settings.whisper_model,
                    settings.model_cache_dir,
                    settings.allow_model_download,
                )
            )
        engine = WhisperEngine(
            resolved[0].path,
            device=settings.whisper_device,
            compute_type=settings.whisper_compute_type,
            cpu_threads=settings.whisper_cpu_threads,
            guards=Guards(
                settings.no_speech_threshold,
                settings.log_prob_threshold,
                settings.compression_ratio_threshold,
            ),
        )
        engine.resolved = resolved[0]  # type: ignore[attr-defined]
        return engine

    return ModelManager(
        "whisper",
        load,
        auto_unload=settings.auto_unload_models,
        idle_timeout=settings.model_idle_timeout,
    )


def engine_info(engine: WhisperEngine) -> ModelInfo:
    r: ResolvedModel = engine.resolved  # type: ignore[attr-defined]
    return ModelInfo(
        name=r.name,
        version=r.version,
        source=r.source,
        compute_type=engine.compute_type,
        device=engine.device,
    )


class LocalAsr:
    """Decodes in this process, batching up to ``batch_size`` chunks per CTranslate2 call."""

    def __init__(self, manager: ModelManager[WhisperEngine], batch_size: int = 8) -> None:
        self.manager = manager
        self.batch_size = batch_size
        self._pending: list[tuple[ChunkJob, asyncio.Future[ChunkResult]]] = []
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        """One lock per event loop, so the engine can be reused across asyncio.run calls."""
        loop = asyncio.get_running_loop()
        return self._locks.setdefault(id(loop), asyncio.Lock())

    async def speech_regions(self, audio: np.ndarray) -> list[tuple[int, int]]:
        from .vad import speech_regions

        return await asyncio.to_thread(speech_regions, audio)

    async def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        def run() -> tuple[str, float]:
            with self.manager.use() as eng:
                return eng.detect_language(audio)

        return await asyncio.to_thread(run)

    async def model_info(self) -> ModelInfo:
        def run() -> ModelInfo:
            with self.manager.use() as eng:
                return engine_info(eng)

        return await asyncio.to_thread(run)

    async def transcribe_chunks(self, jobs: list[ChunkJob]) -> list[ChunkResult]:
        """Queue jobs; whoever holds the lock decodes everything queued so far in batches."""
        loop = asyncio.get_running_loop()
        futures = []
        for job in jobs:
            fut: asyncio.Future[ChunkResult] = loop.create_future()
            self._pending.append((job, fut))
            futures.append(fut)
        async with self._lock():
            while self._pending:
                batch, self._pending = (
                    self._pending[: self.batch_size],
                    self._pending[self.batch_size :],
                )
                if all(f.done() for _, f in batch):
                    continue

                def run(b: list[tuple[ChunkJob, Any]] = batch) -> list[ChunkResult]:
                    with self.manager.use() as eng:
                        return eng.transcribe_batch([j for j, _ in b])

                outs = await asyncio.to_thread(run)
                for (_, f), out in zip(batch, outs):
                    if not f.done():
                        f.set_result(out)
        return [await f for f in futures]


class LocalDiar:
    """Speaker features in this process; build one and reuse it (it holds the GE2E weights)."""

    def __init__(self) -> None:
        from .diarization import DiarizationConfig, FeatureExtractor

        self.extractor = FeatureExtractor(DiarizationConfig())

    async def speech_regions(self, audio: np.ndarray) -> list[tuple[float, float]]:
        from .diarization.windows import speech_regions

        return await asyncio.to_thread(speech_regions, audio)

    async def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        return await asyncio.to_thread(self.extractor.extract, clips)


def transcribe_file(
    path: Path,
    options: TranscribeOptions | None = None,
    *,
    model: str | None = None,
    asr: LocalAsr | None = None,
    diar: LocalDiar | None = None,
    progress: Any = None,
) -> Transcript:
    """Synchronous in-process transcription of one file (the CLI and benchmarks use this)."""
    from .pipeline import run_pipeline

    settings = get_settings()
    options = options or TranscribeOptions()
    audio = load_audio(path, max_duration_s=settings.max_duration_s, max_mb=settings.max_upload_mb)
    backend = asr or LocalAsr(whisper_manager(settings, model))
    if options.diarize and diar is None:
        diar = LocalDiar()
    return asyncio.run(
        run_pipeline(audio, options, backend, diar, progress=progress, source_name=path.name)
    )
