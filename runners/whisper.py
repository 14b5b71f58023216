"""WhisperRunner: adaptive batching of speech chunks from many requests into one CTranslate2 call."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import bentoml
import numpy as np

from transcrevai.asr import ChunkJob, ChunkResult, WhisperEngine
from transcrevai.errors import ModelError
from transcrevai.local import engine_info, whisper_manager
from transcrevai.model_manager import ModelStatus
from transcrevai.settings import get_settings
from transcrevai.vad import speech_regions

_S = get_settings()
_BATCHING: dict[str, Any] = (
    {
        "batchable": True,
        "max_batch_size": _S.whisper_max_batch_size,
        "max_latency_ms": _S.whisper_max_latency_ms,
    }
    if _S.whisper_max_batch_size > 1
    else {}
)


@bentoml.service(
    name="whisper_runner",
    workers=1,
    traffic={"timeout": 3600, "max_concurrency": 256},
    resources={"cpu": "2"},
    # BentoML's client recycles runner connections every 100 calls / 300 s by default,
    # cutting calls still in flight; long transcriptions need long-lived connections
    runner_connection={"max_requests": 1_000_000_000, "max_age": 31_536_000.0},
)
class WhisperRunner:
    def __init__(self) -> None:
        self.manager = whisper_manager(_S)
        if _S.preload_models:
            self._preload_or_explain()
        self._batches: Counter[int] = Counter()
        self._batch_lock = threading.Lock()
        self._info: dict[str, Any] | None = None

    # WHISPER_MAX_BATCH_SIZE=1 turns adaptive batching off (the benchmark's baseline)
    def _preload_or_explain(self) -> None:
        try:
            self.manager.preload()
        except ModelError as exc:
            raise ModelError(f"WhisperRunner cannot start: {exc.message}") from None
        except Exception as exc:  # CTranslate2/tokenizer errors for a corrupt model
            raise ModelError(
                f"WhisperRunner cannot start: the Whisper model '{_S.whisper_model}' could not "
                f"be loaded ({exc.__class__.__name__}: {str(exc)[:200]}). Check WHISPER_MODEL."
            ) from None

    @bentoml.api(**_BATCHING)
    def transcribe_chunks(self, jobs: list[Any]) -> list[Any]:
        """Decode a batch of ChunkJob (pickled between services) into ChunkResult."""
        with self._batch_lock:
            self._batches[len(jobs)] += 1
        typed: list[ChunkJob] = [j if isinstance(j, ChunkJob) else ChunkJob(**j) for j in jobs]
        with self.manager.use() as engine:
            results: list[ChunkResult] = engine.transcribe_batch(typed)
        return results

    @bentoml.api
    def speech_regions(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """Silero VAD (bundled with faster-whisper): sample ranges that hold speech."""
        return speech_regions(audio.astype(np.float32))

    @bentoml.api
    def detect_language(self, audio: np.ndarray) -> dict[str, Any]:
        with self.manager.use() as engine:
            lang, prob = engine.detect_language(audio.astype(np.float32))
        return {"language": lang, "probability": prob}

    @bentoml.api
    async def model_info(self) -> dict[str, Any]:
        """Async on purpose: answered on the event loop, never queued behind decoding."""
        if self._info is None:
            self._info = await asyncio.to_thread(self._load_info)
        return self._info

    def _load_info(self) -> dict[str, Any]:
        with self.manager.use() as engine:
            return engine_info(engine).model_dump()

    @bentoml.api
    async def status(self) -> dict[str, Any]:
        st: ModelStatus = self.manager.status()
        with self._batch_lock:
            batches = {str(k): v for k, v in sorted(self._batches.items())}
        return {
            **st.model_dump(),
            "batch_sizes": batches,
            "max_batch_size": _S.whisper_max_batch_size,
        }

    @bentoml.api
    async def unload(self) -> dict[str, Any]:
        return {"unloaded": self.manager.unload()}

    @bentoml.api
    def preload(self) -> dict[str, Any]:
        try:
            self.manager.preload()
        except ModelError as exc:
            return {"loaded": False, "error": exc.message}
        return {"loaded": True}


__all__ = ["WhisperRunner", "WhisperEngine"]
