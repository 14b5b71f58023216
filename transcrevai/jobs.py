"""Persistent async-job records: status, progress, result and speaker names, one folder per job.

Files are written atomically so a crash never leaves a half-written record, and a job whose
worker process died is reported as failed with a reason instead of vanishing or hanging.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConflictError, InvalidRequestError, NotFoundError
from .types import Transcript

JobState = Literal["queued", "running", "done", "failed"]
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class JobError(BaseModel):
    code: str
    message: str


class JobRecord(BaseModel):
    # validated on assignment too, so update() refuses a value get() could not read back
    model_config = ConfigDict(validate_assignment=True)

    job_id: str
    status: JobState = "queued"
    stage: str = "queued"
    progress: float = Field(default=0.0, ge=0.0, le=1.0)
    source_name: str | None = None
    duration: float | None = None
    created: float = Field(default_factory=time.time)
    updated: float = Field(default_factory=time.time)
    pid: int | None = None
    host: str | None = None
    error: JobError | None = None
    options: dict[str, Any] = Field(default_factory=dict)


def _atomic_write(path: Path, text: str) -> None:
    # unique per thread too: two writers sharing one temp name would replace each other's file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, job_id: str) -> Path:
        if not _ID.fullmatch(job_id):  # match() would let a trailing newline through
            raise InvalidRequestError("Malformed job id.")
        return self.root / job_id

    def create(self, job_id: str, **fields: Any) -> JobRecord:
        d = self._dir(job_id)
        d.mkdir(parents=True, exist_ok=True)
        if (d / "job.json").exists():
            return self.get(job_id)
        rec = JobRecord(job_id=job_id, **fields)
        self._save(rec)
        return rec

    def _save(self, rec: JobRecord) -> None:
        rec.updated = time.time()
        _atomic_write(self._dir(rec.job_id) / "job.json", rec.model_dump_json(indent=1))

    def get(self, job_id: str) -> JobRecord:
        path = self._dir(job_id) / "job.json"
        try:
            rec = JobRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise NotFoundError(f"No job with id '{job_id}'.") from exc
        # only this host can tell whether the owning process lives (pods may share a volume)
        local = rec.host in (None, socket.gethostname())
        if (
            rec.status in ("queued", "running")
            and rec.pid is not None
            and local
            and not _pid_alive(rec.pid)
        ):
            rec.status, rec.stage = "failed", "failed"
            rec.error = JobError(
                code="worker_lost",
                message="The worker running this job stopped before it finished; resubmit it.",
            )
            self._save(rec)
        return rec

    def update(self, job_id: str, **fields: Any) -> JobRecord:
        rec = self.get(job_id)
        for k, v in fields.items():
            setattr(rec, k, v)
        self._save(rec)
        return rec

    def complete(self, job_id: str, transcript: Transcript) -> JobRecord:
        _atomic_write(self._dir(job_id) / "transcript.json", transcript.model_dump_json())
        return self.update(
            job_id, status="done", stage="done", progress=1.0, duration=transcript.duration
        )

    def fail(self, job_id: str, code: str, message: str) -> JobRecord:
        return self.update(
            job_id, status="failed", stage="failed", error=JobError(code=code, message=message)
        )

    def transcript(self, job_id: str) -> Transcript:
        rec = self.get(job_id)
        if rec.status != "done":
            raise ConflictError(f"Job '{job_id}' is {rec.status}; its result is not ready.")
        tr = Transcript.model_validate_json(
            (self._dir(job_id) / "transcript.json").read_text("utf-8")
        )
        names = self._dir(job_id) / "speakers.json"
        if names.exists():
            tr.speaker_names = json.loads(names.read_text("utf-8"))
        return tr

    def rename_speakers(self, job_id: str, names: dict[str, str]) -> dict[str, str]:
        tr = self.transcript(job_id)
        unknown = sorted(set(names) - set(tr.speakers))
        if unknown:
            raise InvalidRequestError(
                f"Unknown speaker label(s): {', '.join(unknown)}. Known: {', '.join(tr.speakers) or 'none'}."
            )
        clean: dict[str, str] = dict(tr.speaker_names)
        for label, name in names.items():
            name = " ".join(str(name).split())
            if not name or len(name) > 80:
                raise InvalidRequestError("Speaker names must be 1–80 characters.")
            clean[label] = name
        _atomic_write(self._dir(job_id) / "speakers.json", json.dumps(clean, ensure_ascii=False))
        return clean

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self._dir(job_id), ignore_errors=True)

    def purge_older_than(self, seconds: float) -> int:
        cutoff, n = time.time() - seconds, 0
        for d in self.root.iterdir():
            f = d / "job.json"
            if f.exists() and f.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)
                n += 1
        return n
