"""`--server URL` engine: the service's async job API, with retries on transient failures.

Each file is submitted (POST /jobs/transcribe/submit), polled (GET /jobs/{id}) for its stage
and progress, then every requested format is fetched (GET /jobs/{id}/result?format=…), so
the server's own export, including speaker renames, is what lands on disk.
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from .cli_files import extension
from .cli_local import Report
from .errors import AuthError, ServiceUnavailableError, TranscrevAIError
from .types import TranscribeOptions, Transcript

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})


def form_fields(options: TranscribeOptions) -> dict[str, str]:
    """Options → the multipart form fields the service accepts (None values left out)."""
    data: dict[str, str] = {"language": options.language or "auto"}
    for key, value in options.model_dump(exclude={"language", "detect_variety"}).items():
        if value is None:
            continue
        data[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return data


def _error(resp: httpx.Response) -> TranscrevAIError:
    try:
        err = resp.json().get("error")
    except ValueError:
        err = None
    if isinstance(err, dict):
        code, message = str(err.get("code", "error")), str(err.get("message", resp.text))
    else:
        code, message = "http_error", str(err or resp.text[:200] or resp.reason_phrase)
    if resp.status_code == 401:
        return AuthError(message)
    return TranscrevAIError(message, code=code, status=resp.status_code)


class ServerEngine:
    """One client for the whole run; ``retries`` attempts per request with doubling backoff."""

    def __init__(
        self, url: str, api_key: str | None = None, retries: int = 6, backoff: float = 1.0
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(120.0, connect=10.0)
        )
        self.retries = max(1, retries)
        self.backoff = backoff

    async def _request(
        self,
        method: str,
        path: str,
        upload: Path | None = None,
        attempts: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send, retrying connection errors and 429/502/503/504 (honouring Retry-After)."""
        delay, tries = self.backoff, attempts or self.retries
        for attempt in range(1, tries + 1):
            resp = None
            try:
                if upload is None:
                    resp = await self.client.request(method, path, **kwargs)
                else:
                    mime = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
                    with open(upload, "rb") as fh:
                        files = {"file": (upload.name, fh, mime)}
                        resp = await self.client.request(method, path, files=files, **kwargs)
            except httpx.TransportError as exc:
                if attempt == tries:
                    raise ServiceUnavailableError(
                        f"cannot reach {self.url} ({exc.__class__.__name__})"
                    ) from exc
            if resp is not None:
                if resp.status_code < 400:
                    return resp
                if resp.status_code not in TRANSIENT_STATUS or attempt == tries:
                    raise _error(resp)
                after = resp.headers.get("retry-after", "")
                delay = float(after) if after.isdigit() else delay
            await asyncio.sleep(min(delay, 30.0))
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    async def start(self) -> str:
        """Fail the run early (one clear line) when the server is down or refuses the key."""
        await self._request("GET", "/readyz", attempts=3)
        await self._request("GET", "/status", attempts=3)
        return f"server {self.url}"

    async def run(
        self, path: Path, options: TranscribeOptions, formats: list[str], report: Report
    ) -> tuple[Transcript, dict[str, tuple[str, bytes]]]:
        report("upload", 0.0)
        resp = await self._request(
            "POST", "/jobs/transcribe/submit", upload=path, data=form_fields(options)
        )
        job_id = resp.json()["task_id"]
        interval = 0.3
        while True:
            rec = (await self._request("GET", f"/jobs/{job_id}")).json()
            if rec["status"] == "done":
                break
            if rec["status"] == "failed":
                err = rec.get("error") or {}
                raise TranscrevAIError(
                    err.get("message", "the job failed"), code=err.get("code", "job_failed")
                )
            report(str(rec.get("stage") or rec["status"]), float(rec.get("progress") or 0.0))
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 2.0)
        report("download", 1.0)
        result = f"/jobs/{job_id}/result"
        raw = (await self._request("GET", result, params={"format": "json"})).content
        transcript = Transcript.model_validate_json(raw)
        contents: dict[str, tuple[str, bytes]] = {}
        for fmt in formats:
            body = raw
            if fmt != "json":
                body = (await self._request("GET", result, params={"format": fmt})).content
            contents[fmt] = (extension(fmt), body)
        return transcript, contents

    async def close(self) -> None:
        await self.client.aclose()
