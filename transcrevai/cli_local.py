"""In-process engine for the CLI: the one pipeline, one model shared by every file of a run.

All files of a run are transcribed inside one event loop through one ``LocalAsr``, so the
model loads once and chunks of files in flight at the same time share CTranslate2 batches.
(``transcribe_file`` starts a fresh event loop per call, and ``LocalAsr``'s asyncio lock
cannot cross loops once contended, hence the loop-level reuse here.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .formats import export
from .types import TranscribeOptions, Transcript

if TYPE_CHECKING:
    from .local import LocalDiar

Report = Callable[[str, float], None]  # (stage, overall fraction 0..1 for this file)

# Share of a file's progress bar given to each pipeline stage (asr is measured by audio time).
_SPANS = {"decode": (0.0, 0.03), "vad": (0.03, 0.08), "asr": (0.08, 0.92)}
_SPANS |= {"diarization": (0.92, 0.99), "done": (1.0, 1.0)}


def overall(stage: str, fraction: float) -> float:
    lo, hi = _SPANS.get(stage, (0.0, 0.0))
    return lo + (hi - lo) * fraction


class LocalEngine:
    """Runs ``run_pipeline`` in this process on ``model`` (None → the configured default)."""

    def __init__(self, model: str | None) -> None:
        from .local import LocalAsr, whisper_manager
        from .settings import get_settings

        self.settings = get_settings()
        self.manager = whisper_manager(self.settings, model)
        self.asr = LocalAsr(self.manager, batch_size=self.settings.whisper_max_batch_size)
        self._diar: LocalDiar | None = None

    async def start(self) -> str:
        """Load the model now, so a missing model stops the run before any file is tried."""
        from .local import engine_info

        await asyncio.to_thread(self.manager.preload)
        with self.manager.use() as eng:
            info = engine_info(eng)
        return f"{info.name} ({info.source}, {info.device} {info.compute_type})"

    async def run(
        self, path: Path, options: TranscribeOptions, formats: list[str], report: Report
    ) -> tuple[Transcript, dict[str, tuple[str, bytes]]]:
        from .audio import load_audio
        from .local import LocalDiar
        from .pipeline import run_pipeline

        report("decode", 0.0)
        audio = await asyncio.to_thread(
            load_audio,
            path,
            max_duration_s=self.settings.max_duration_s,
            max_mb=self.settings.max_upload_mb,
        )
        diar = None
        if options.diarize:
            if self._diar is None:
                self._diar = LocalDiar()
            diar = self._diar

        def progress(stage: str, fraction: float) -> None:
            report(stage, overall(stage, fraction))

        transcript = await run_pipeline(
            audio, options, self.asr, diar, progress=progress, source_name=path.name
        )
        contents = {}
        for fmt in formats:
            out = export(transcript, fmt)
            contents[fmt] = (out.extension, out.content)
        return transcript, contents

    async def close(self) -> None:
        self.manager.close()
