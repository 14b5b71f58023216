"""Locust model of TranscrevAI's real users: async jobs, short sync calls and health probes.

``scripts/loadtest.sh`` runs it headless against a local ``bentoml serve``; by hand:
``locust -f deploy/locustfile.py --headless -u 50 -r 5 -t 120s -H http://127.0.0.1:3000``.

Every submitted job is tracked to its end, because the point of a load test here is that
no job is lost: at quit a JSON ledger (``LOCUST_JOBS_REPORT``) lists submitted, completed,
failed and still-pending job ids, so the caller can wait for the pending ones afterwards.
Completed jobs also appear in Locust's table as the pseudo-request ``JOB end-to-end``
(submit → done), and failed ones as its failures.

Environment:
  LOCUST_AUDIO_DIR         wav/mp3 clips of 10–60 s (``scripts/loadtest.sh prepare``);
                           an optional ``clips.json`` there maps file name → seconds
  LOCUST_JOBS_REPORT       where the ledger JSON goes (default reports/locust-jobs.json)
  LOCUST_API_KEY           sent as X-API-Key when the server has TRANSCREVAI_API_KEYS
  LOCUST_POLL_S            seconds between job polls (default 3)
  LOCUST_JOB_TIMEOUT_S     a user gives up waiting for one job after this (default 1800)
  LOCUST_DIARIZE_FRACTION  share of jobs that ask for speaker diarization (default 0.5)
  LOCUST_SYNC_MAX_S        sync users only send clips up to this long (default 20)
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant, events, task

AUDIO_EXT = (".wav", ".mp3")
TERMINAL = ("done", "failed")


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


POLL_S = _env_float("LOCUST_POLL_S", 3.0)
JOB_TIMEOUT_S = _env_float("LOCUST_JOB_TIMEOUT_S", 1800.0)
DIARIZE_FRACTION = _env_float("LOCUST_DIARIZE_FRACTION", 0.5)
SYNC_MAX_S = _env_float("LOCUST_SYNC_MAX_S", 20.0)
HTTP_TIMEOUT_S = 3600.0  # queued requests on a saturated server are slow, not failed


class Clip:
    def __init__(self, path: Path, seconds: float | None) -> None:
        self.path, self.seconds = path, seconds
        self.data = path.read_bytes()
        self.mime = "audio/mpeg" if path.suffix == ".mp3" else "audio/wav"


def _duration(path: Path, manifest: dict[str, float]) -> float | None:
    if path.name in manifest:
        return float(manifest[path.name])
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # an unreadable header only costs the throughput figure
        return None


def load_clips(folder: Path) -> list[Clip]:
    """All clips of the audio folder, read once into memory (uploads stay off the disk)."""
    manifest_path = folder / "clips.json"
    manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else {}
    paths = sorted(p for p in folder.glob("*") if p.suffix.lower() in AUDIO_EXT)
    return [Clip(p, _duration(p, manifest)) for p in paths]


class Ledger:
    """Every job this run submitted, with its outcome; written as JSON when Locust quits."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.submit_errors = 0
        self.sync_ok = 0
        self.sync_audio_s = 0.0
        self.probe_ms: dict[str, list[float]] = {"/readyz": [], "/livez": []}
        self.started = time.time()

    def submitted(self, job_id: str, clip: Clip, diarize: bool) -> None:
        self.jobs[job_id] = {
            "file": clip.path.name,
            "audio_s": clip.seconds,
            "diarize": diarize,
            "submitted_at": time.time(),
            "status": "submitted",
        }

    def finished(self, job_id: str, status: str, error: Any = None) -> None:
        rec = self.jobs[job_id]
        rec.update(status=status, finished_at=time.time(), error=error)

    def summary(self) -> dict[str, Any]:
        states = [j["status"] for j in self.jobs.values()]
        return {
            "started": self.started,
            "stopped": time.time(),
            "submitted": len(self.jobs),
            "completed": states.count("done"),
            "failed": states.count("failed"),
            "pending": sorted(k for k, j in self.jobs.items() if j["status"] not in TERMINAL),
            "submit_errors": self.submit_errors,
            "sync_ok": self.sync_ok,
            "sync_audio_s": round(self.sync_audio_s, 2),
            "probe_ms": self.probe_ms,
            "jobs": self.jobs,
        }


LEDGER = Ledger()
CLIPS: list[Clip] = []


@events.init.add_listener
def _load_audio(environment: Any, **_: Any) -> None:
    folder = Path(os.environ.get("LOCUST_AUDIO_DIR", "reports/loadtest-audio"))
    CLIPS[:] = load_clips(folder) if folder.is_dir() else []
    if not CLIPS:
        raise SystemExit(f"no wav/mp3 clips in {folder} (set LOCUST_AUDIO_DIR)")


@events.quitting.add_listener
def _write_ledger(environment: Any, **_: Any) -> None:
    out = Path(os.environ.get("LOCUST_JOBS_REPORT", "reports/locust-jobs.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(LEDGER.summary(), indent=1), encoding="utf-8")


class TranscrevAIUser(HttpUser):
    abstract = True

    def on_start(self) -> None:
        key = os.environ.get("LOCUST_API_KEY")
        if key:
            self.client.headers["X-API-Key"] = key

    def upload(self, clip: Clip) -> dict[str, tuple[str, bytes, str]]:
        return {"file": (clip.path.name, clip.data, clip.mime)}


class JobUser(TranscrevAIUser):
    """Uploads a recording as an async job, polls until it ends, downloads the SRT."""

    weight = 6
    wait_time = between(5, 20)

    @task
    def transcribe_job(self) -> None:
        clip = random.choice(CLIPS)
        diarize = random.random() < DIARIZE_FRACTION
        fields = {"language": "pt", "diarize": str(diarize).lower()}
        with self.client.post(
            "/jobs/transcribe/submit",
            files=self.upload(clip),
            data=fields,
            name="/jobs/transcribe/submit",
            timeout=HTTP_TIMEOUT_S,
            catch_response=True,
        ) as resp:
            job_id = resp.json().get("task_id") if resp.ok else None
            if not job_id:
                LEDGER.submit_errors += 1
                resp.failure(f"no task_id: {resp.status_code} {resp.text[:200]}")
                return
        LEDGER.submitted(job_id, clip, diarize)
        record = self.wait_for(job_id)
        if record is None:
            return  # timed out here; stays pending in the ledger for the caller to settle
        LEDGER.finished(job_id, record["status"], record.get("error"))
        self.report_job(job_id, record)
        if record["status"] == "done":
            self.fetch_srt(job_id)

    def wait_for(self, job_id: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            with self.client.get(
                f"/jobs/{job_id}", name="/jobs/[id]", timeout=60, catch_response=True
            ) as resp:
                if not resp.ok:
                    resp.failure(f"{resp.status_code} {resp.text[:200]}")
                    continue
                record: dict[str, Any] = resp.json()
                if record.get("status") in TERMINAL:
                    return record
        return None

    def report_job(self, job_id: str, record: dict[str, Any]) -> None:
        rec = LEDGER.jobs[job_id]
        elapsed_ms = (rec["finished_at"] - rec["submitted_at"]) * 1000
        error = None
        if record["status"] != "done":
            error = RuntimeError(f"job {job_id} failed: {record.get('error')}")
        self.environment.events.request.fire(
            request_type="JOB",
            name="end-to-end",
            response_time=elapsed_ms,
            response_length=0,
            exception=error,
            context={},
        )

    def fetch_srt(self, job_id: str) -> None:
        with self.client.get(
            f"/jobs/{job_id}/result",
            params={"format": "srt"},
            name="/jobs/[id]/result?format=srt",
            timeout=60,
            catch_response=True,
        ) as resp:
            if not resp.ok:
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
            elif "-->" not in resp.text:
                resp.failure("SRT without a single cue")


class SyncUser(TranscrevAIUser):
    """Sends a short clip to POST /transcribe and waits for the transcript in the response."""

    weight = 3
    wait_time = between(10, 30)

    @task
    def transcribe_now(self) -> None:
        short = [c for c in CLIPS if c.seconds is not None and c.seconds <= SYNC_MAX_S]
        clip = random.choice(short or CLIPS)
        with self.client.post(
            "/transcribe",
            files=self.upload(clip),
            data={"language": "pt", "output_format": "json"},
            name="/transcribe",
            timeout=HTTP_TIMEOUT_S,
            catch_response=True,
        ) as resp:
            if not resp.ok:
                resp.failure(f"{resp.status_code} {resp.text[:200]}")
                return
            body = resp.json()
            if not body.get("segments") or not str(body.get("text", "")).strip():
                resp.failure("transcript without text")
                return
            LEDGER.sync_ok += 1
            LEDGER.sync_audio_s += clip.seconds or 0.0


class ProbeUser(HttpUser):
    """What a load balancer or kubelet does: /readyz and /livez every second."""

    fixed_count = 1
    wait_time = constant(1)

    @task
    def probes(self) -> None:
        for path in ("/readyz", "/livez"):
            start = time.perf_counter()
            resp = self.client.get(path, name=path, timeout=10)
            if resp.ok:  # exact times: Locust's CSV percentiles are rounded to 2 digits
                LEDGER.probe_ms[path].append(round((time.perf_counter() - start) * 1000, 2))
