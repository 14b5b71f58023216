"""Pipeline backends that call the BentoML runners; connection failures become a clear 503.

A runner worker that dies is restarted by BentoML's supervisor; idempotent calls are retried
for a bounded time so a client request in flight survives the restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np

from .asr import ChunkJob, ChunkResult
from .errors import ModelError, ServiceUnavailableError
from .types import ModelInfo

logger = logging.getLogger(__name__)
RETRY_SECONDS = 45.0


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    try:
        import aiohttp

        aio: tuple[type[BaseException], ...] = (aiohttp.ClientError,)
    except ImportError:  # pragma: no cover
        aio = ()
    if isinstance(exc, (httpx.TransportError, ConnectionError, *aio)):
        return True
    from bentoml.exceptions import BentoMLException

    # the client wraps transport failures (and 5xx of a dying worker) in BentoMLException
    return isinstance(exc, BentoMLException) and getattr(exc, "error_code", 500) >= 500


async def call_runner(
    name: str,
    fn: Any,
    *args: Any,
    retry_for: float = RETRY_SECONDS,
    gate: asyncio.Semaphore | None = None,
) -> Any:
    if gate is not None:
        # a cap on calls in flight keeps BentoML's runner connection pool (and so the
        # readiness probe, which shares it) from being exhausted under heavy load
        async with gate:
            return await call_runner(name, fn, *args, retry_for=retry_for)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_for
    delay = 0.5
    while True:
        try:
            return await fn(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not _is_connection_error(exc):
                raise ModelError(f"The {name} failed: {exc.__class__.__name__}.") from exc
            if loop.time() + delay > deadline:
                raise ServiceUnavailableError(
                    f"The {name} is unavailable (restarting or overloaded); retry shortly."
                ) from exc
            logger.warning("%s unreachable (%s); retrying in %.1fs", name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class RunnerAsr:
    def __init__(self, runner: Any, gate: asyncio.Semaphore | None = None) -> None:
        self.runner = runner
        self.gate = gate

    async def speech_regions(self, audio: np.ndarray) -> list[tuple[int, int]]:
        out = await call_runner(
            "Whisper runner", self.runner.to_async.speech_regions, audio, gate=self.gate
        )
        return [(int(s), int(e)) for s, e in out]

    async def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        out = await call_runner(
            "Whisper runner", self.runner.to_async.detect_language, audio, gate=self.gate
        )
        return str(out["language"]), float(out["probability"])

    async def transcribe_chunks(self, jobs: list[ChunkJob]) -> list[ChunkResult]:
        out = await call_runner(
            "Whisper runner", self.runner.to_async.transcribe_chunks, jobs, gate=self.gate
        )
        return [r if isinstance(r, ChunkResult) else ChunkResult(**r) for r in out]

    async def model_info(self) -> ModelInfo:
        out = await call_runner("Whisper runner", self.runner.to_async.model_info, gate=self.gate)
        return ModelInfo(**out)


class RunnerDiar:
    def __init__(self, runner: Any, gate: asyncio.Semaphore | None = None) -> None:
        self.runner = runner
        self.gate = gate

    async def speech_regions(self, audio: np.ndarray) -> list[tuple[float, float]]:
        out = await call_runner(
            "diarization runner", self.runner.to_async.speech_regions, audio, gate=self.gate
        )
        return [(float(s), float(e)) for s, e in out]

    async def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        out = await call_runner(
            "diarization runner", self.runner.to_async.embed, clips, gate=self.gate
        )
        return np.stack([np.asarray(v, dtype=np.float32) for v in out])
