"""DiarizationRunner: adaptive batching of speaker-embedding windows from many requests."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import bentoml
import numpy as np

from transcrevai.model_manager import ModelManager
from transcrevai.settings import get_settings

_S = get_settings()


def _load_extractor() -> Any:
    from transcrevai.diarization import DiarizationConfig, FeatureExtractor

    return FeatureExtractor(DiarizationConfig())


@bentoml.service(
    name="diarization_runner",
    workers=1,
    traffic={"timeout": 3600, "max_concurrency": 256},
    resources={"cpu": "1"},
    runner_connection={"max_requests": 1_000_000_000, "max_age": 31_536_000.0},
)
class DiarizationRunner:
    def __init__(self) -> None:
        self.manager: ModelManager[Any] = ModelManager(
            "diarization",
            _load_extractor,
            auto_unload=_S.auto_unload_models,
            idle_timeout=_S.model_idle_timeout,
        )
        self._batches: Counter[int] = Counter()
        self._lock = threading.Lock()

    @bentoml.api(
        batchable=True,
        max_batch_size=_S.diarization_max_batch_size,
        max_latency_ms=_S.diarization_max_latency_ms,
    )
    def embed(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        """One feature vector per speech window (windows of many requests in one batch)."""
        with self._lock:
            self._batches[len(windows)] += 1
        with self.manager.use() as extractor:
            feats = extractor.extract([np.asarray(w, dtype=np.float32) for w in windows])
        return [np.asarray(f, dtype=np.float32) for f in feats]

    @bentoml.api
    def speech_regions(self, audio: np.ndarray) -> list[tuple[float, float]]:
        """Silero VAD with diarization's tighter padding (seconds)."""
        from transcrevai.diarization.windows import speech_regions

        return speech_regions(np.asarray(audio, dtype=np.float32))

    @bentoml.api
    async def status(self) -> dict[str, Any]:
        with self._lock:
            batches = {str(k): v for k, v in sorted(self._batches.items())}
        return {**self.manager.status().model_dump(), "batch_sizes": batches}

    @bentoml.api
    async def unload(self) -> dict[str, Any]:
        return {"unloaded": self.manager.unload()}
