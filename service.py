"""TranscrevAI entry service: HTTP/OpenAPI API, async jobs and exports.

It decodes and validates uploads, then drives the one pipeline whose model work runs in the
runners (``bentoml.depends``); no model inference happens in this process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

import bentoml
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.responses import FileResponse, JSONResponse, Response

from runners.diarization import DiarizationRunner
from runners.whisper import WhisperRunner
from transcrevai import openai_compat
from transcrevai.audio import load_audio
from transcrevai.errors import InvalidRequestError, NotFoundError, TranscrevAIError
from transcrevai.http_guard import GuardMiddleware, error_body
from transcrevai.http_io import (
    build_options,
    check_format,
    error_response,
    form_str,
    options_from,
    render,
    save_upload,
    upload_name,
)
from transcrevai.jobs import JobStore
from transcrevai.model_manager import rss_mb
from transcrevai.pipeline import run_pipeline
from transcrevai.runner_backends import RunnerAsr, RunnerDiar
from transcrevai.settings import get_settings
from transcrevai.types import TranscribeOptions, Transcript

logger = logging.getLogger("transcrevai")
_S = get_settings()
JOB_ROUTE = "/jobs/transcribe"
extra = FastAPI(title="TranscrevAI extra routes", docs_url=None, redoc_url=None, openapi_url=None)
WEB_DIR = Path(__file__).resolve().parent / "transcrevai" / "web"
WEB_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")  # one plain file name, no '/'


@bentoml.service(
    name="transcrevai",
    workers=1,
    traffic={"timeout": 3600, "max_concurrency": 512},
    http={"port": int(os.environ.get("PORT", "3000"))},
)
@bentoml.asgi_app(extra, path="/")
class TranscrevAI:
    whisper = bentoml.depends(WhisperRunner)
    diarizer = bentoml.depends(DiarizationRunner)

    def __init__(self) -> None:
        self.jobs = JobStore(_S.jobs_dir)
        purged = self.jobs.purge_older_than(_S.job_retention_s)
        if purged:
            logger.info("removed %d jobs older than JOB_RETENTION_S", purged)
        gate = asyncio.Semaphore(_S.runner_max_in_flight)
        self.asr = RunnerAsr(self.whisper, gate)
        self.diar = RunnerDiar(self.diarizer, gate)

    async def _transcribe(
        self,
        file: Path,
        options: TranscribeOptions,
        progress: Any = None,
        source_name: str | None = None,
        transcribe: bool = True,
    ) -> Transcript:
        audio = await asyncio.to_thread(
            load_audio, file, max_duration_s=_S.max_duration_s, max_mb=_S.max_upload_mb
        )
        return await run_pipeline(
            audio,
            options,
            self.asr,
            self.diar,
            progress=progress,
            source_name=source_name or upload_name(file),
            transcribe=transcribe,
        )

    @bentoml.api(route="/transcribe")
    async def transcribe(
        self,
        file: Path,
        language: str = "pt",
        task: str = "transcribe",
        word_timestamps: bool = True,
        beam_size: int = 5,
        diarize: bool = False,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        output_format: str = "json",
        initial_prompt: str | None = None,
        hotwords: str | None = None,
        temperature: float = 0.0,
        vad_filter: bool = True,
    ) -> Transcript:
        """Transcribe one upload and answer at once (JSON transcript or txt/srt/vtt/tsv/rttm)."""
        try:
            fmt = check_format(output_format)
            opts = options_from(locals())
            transcript = await self._transcribe(file, opts)
            return render(transcript, fmt)  # type: ignore[return-value]
        except Exception as exc:
            return error_response(exc)  # type: ignore[return-value]

    @bentoml.api(route="/diarize")
    async def diarize(
        self,
        file: Path,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        output_format: str = "rttm",
    ) -> Transcript:
        """Who spoke when, without transcription: RTTM (default) or JSON speaker turns."""
        try:
            fmt = check_format(output_format)
            if fmt not in ("rttm", "json"):
                raise InvalidRequestError("/diarize answers output_format rttm or json.")
            opts = build_options(
                diarize=True,
                num_speakers=num_speakers,
                min_speakers=min_speakers,
                max_speakers=max_speakers,
                detect_variety=False,
            )
            transcript = await self._transcribe(file, opts, transcribe=False)
            return render(transcript, fmt)  # type: ignore[return-value]
        except Exception as exc:
            return error_response(exc)  # type: ignore[return-value]

    @bentoml.task(route=JOB_ROUTE)
    async def transcribe_job(
        self,
        file: Path,
        ctx: bentoml.Context,
        language: str = "pt",
        task: str = "transcribe",
        word_timestamps: bool = True,
        beam_size: int = 5,
        diarize: bool = False,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        initial_prompt: str | None = None,
        hotwords: str | None = None,
        temperature: float = 0.0,
        vad_filter: bool = True,
    ) -> Transcript:
        """Async job (BentoML task): submit, then poll GET /jobs/{task_id} for progress."""
        job_id = str(getattr(ctx.request.state, "task_id", "") or f"local-{time.time_ns()}")
        self.jobs.create(job_id, source_name=upload_name(file))
        try:
            opts = options_from(locals())
            self.jobs.update(
                job_id,
                status="running",
                stage="decode",
                pid=os.getpid(),
                host=socket.gethostname(),
                source_name=upload_name(file),
                options=opts.model_dump(),
            )
            last = [0.0]

            def progress(stage: str, fraction: float) -> None:
                now = time.monotonic()
                if stage != "asr" or fraction >= 1.0 or now - last[0] > 0.5:
                    last[0] = now
                    overall = {"vad": 0.02, "asr": 0.05 + 0.8 * fraction}.get(stage, 0.9)
                    self.jobs.update(job_id, stage=stage, progress=round(min(overall, 0.99), 3))

            transcript = await self._transcribe(file, opts, progress)
            self.jobs.complete(job_id, transcript)
            return render(transcript, "json")  # type: ignore[return-value]
        except Exception as exc:
            resp = error_response(exc)
            err = exc if isinstance(exc, TranscrevAIError) else None
            self.jobs.fail(
                job_id,
                err.code if err else "internal_error",
                err.message if err else "An internal error occurred; it has been logged.",
            )
            return resp  # type: ignore[return-value]

    # -- extra routes (FastAPI, mounted at /) -------------------------------------------
    @extra.get("/jobs/{job_id}")
    def job_status(self, job_id: str) -> JSONResponse:
        try:
            return JSONResponse(self.jobs.get(job_id).model_dump(mode="json"))
        except Exception as exc:
            return error_response(exc)

    @extra.get("/jobs/{job_id}/result")
    def job_result(self, job_id: str, format: str = "json") -> Response:
        try:
            return render(self.jobs.transcript(job_id), check_format(format))
        except Exception as exc:
            return error_response(exc)

    @extra.post("/jobs/{job_id}/speakers")
    async def rename_speakers(self, job_id: str, request: FastAPIRequest) -> JSONResponse:
        try:
            try:
                body = await request.json()
            except ValueError as exc:
                raise InvalidRequestError('Send JSON: {"names": {"SPEAKER_00": "Ana"}}.') from exc
            names = body.get("names") if isinstance(body, dict) else None
            if not isinstance(names, dict):
                raise InvalidRequestError('Send JSON: {"names": {"SPEAKER_00": "Ana"}}.')
            return JSONResponse(
                {"job_id": job_id, "speaker_names": self.jobs.rename_speakers(job_id, names)}
            )
        except Exception as exc:
            return error_response(exc)

    @extra.delete("/jobs/{job_id}")
    def delete_job(self, job_id: str) -> JSONResponse:
        try:
            self.jobs.get(job_id)
            self.jobs.delete(job_id)
            return JSONResponse({"job_id": job_id, "deleted": True})
        except Exception as exc:
            return error_response(exc)

    @extra.get("/status")
    async def status(self) -> JSONResponse:
        """Per runner: loaded/unloaded, load count, last use, RSS and batch sizes seen."""
        out: dict[str, Any] = {"service": {"pid": os.getpid(), "rss_mb": round(rss_mb(), 1)}}
        for name, runner in (("whisper", self.whisper), ("diarization", self.diarizer)):
            try:
                out[name] = await asyncio.wait_for(runner.to_async.status(), timeout=5)
            except Exception as exc:  # a runner that is restarting must not break status
                out[name] = {"available": False, "reason": exc.__class__.__name__}
        return JSONResponse(out)

    # -- OpenAI-compatible API -------------------------------------------------------------
    async def _served_model(self) -> str:
        try:
            return (await self.asr.model_info()).name
        except TranscrevAIError:
            return ""

    @extra.get("/v1/models")
    async def openai_models(self) -> JSONResponse:
        return JSONResponse(openai_compat.model_list(await self._served_model()))

    @extra.post("/v1/audio/transcriptions")
    async def openai_transcriptions(self, request: FastAPIRequest) -> Response:
        """OpenAI's transcription endpoint; the official SDK works with base_url=…/v1."""
        tmp: Path | None = None
        try:
            try:
                form = await request.form(max_part_size=int(_S.max_upload_mb * 1048576) + 1)
            except Exception as exc:
                raise InvalidRequestError("Send multipart/form-data with a 'file' field.") from exc
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidRequestError("The 'file' field is required.", code="missing_file")
            grans = [str(g) for g in form.getlist("timestamp_granularities[]")]
            grans += [str(g) for g in form.getlist("timestamp_granularities")]
            fmt = openai_compat.check_request(
                form_str(form, "model"),
                form_str(form, "response_format"),
                await self._served_model(),
                grans,
            )
            opts = build_options(
                language=form_str(form, "language") or "auto",
                initial_prompt=form_str(form, "prompt"),
                temperature=form_str(form, "temperature"),
                word_timestamps=True,
            )
            tmp = await asyncio.to_thread(save_upload, upload)
            transcript = await self._transcribe(tmp, opts, source_name=upload.filename)
            content, media = openai_compat.render(transcript, fmt, grans)
            return Response(content, media_type=media)
        except TranscrevAIError as exc:
            body = openai_compat.openai_error(exc.status, exc.code, exc.message)
            return JSONResponse(body, status_code=exc.status)
        except Exception:
            logger.exception("openai endpoint failed")
            body = openai_compat.openai_error(500, "internal_error", "An internal error occurred.")
            return JSONResponse(body, status_code=500)
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    @extra.get("/healthz")
    def healthz(self) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    # -- web page (static files from transcrevai/web) -----------------------------------------
    @extra.get("/")
    def web_index(self) -> Response:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")

    @extra.get("/web/{name:path}")
    def web_file(self, name: str) -> Response:
        path = WEB_DIR / name
        if not WEB_NAME.match(name) or not path.is_file():
            body = error_body(404, f"No web file '{name}'.")
            return Response(body, status_code=404, media_type="application/json")
        return FileResponse(path)


def _on_submit(path: str, task_id: str) -> None:
    if path == f"{JOB_ROUTE}/submit":
        try:
            JobStore(_S.jobs_dir).create(task_id, pid=os.getpid(), host=socket.gethostname())
        except TranscrevAIError:
            logger.warning("could not pre-register job %s", task_id)


TranscrevAI.add_asgi_middleware(  # type: ignore[attr-defined]
    GuardMiddleware,
    api_keys=_S.api_keys,
    max_upload_bytes=lambda: _S.max_upload_mb * 1048576,
    on_submit=_on_submit,
)

__all__ = ["TranscrevAI", "NotFoundError", "error_body"]
