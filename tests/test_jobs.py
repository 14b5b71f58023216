"""Persistent job records: lifecycle, speaker renames, id validation, dead workers, and writes
that never leave a half-written or temporary file behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from transcrevai.errors import ConflictError, InvalidRequestError, NotFoundError
from transcrevai.jobs import JobRecord, JobStore
from transcrevai.types import Segment, Transcript


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs")


def _transcript() -> Transcript:
    return Transcript(
        text="Bom dia. Olá, tudo bem?",
        language="pt",
        duration=4.5,
        segments=[
            Segment(id=0, start=0.0, end=1.2, text="Bom dia.", speaker="SPEAKER_00"),
            Segment(id=1, start=1.5, end=4.5, text="Olá, tudo bem?", speaker="SPEAKER_01"),
        ],
        speakers=["SPEAKER_00", "SPEAKER_01"],
    )


def _no_temp_files(root: Path) -> None:
    leftovers = [
        p.name for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")
    ]
    assert leftovers == []


def test_lifecycle_create_update_complete(store: JobStore) -> None:
    rec = store.create("job_1", source_name="reunião.mp3")
    assert (rec.status, rec.stage, rec.progress, rec.error) == ("queued", "queued", 0.0, None)
    assert store.create("job_1").source_name == "reunião.mp3"  # create again: the same job

    store.update("job_1", status="running", stage="asr", progress=0.4, pid=os.getpid())
    got = store.get("job_1")
    assert (got.status, got.stage, got.progress, got.pid) == ("running", "asr", 0.4, os.getpid())
    assert got.updated >= got.created

    with pytest.raises(ConflictError) as info:
        store.transcript("job_1")
    assert info.value.status == 409 and "running" in info.value.message

    done = store.complete("job_1", _transcript())
    assert (done.status, done.stage, done.progress, done.duration) == ("done", "done", 1.0, 4.5)
    assert store.transcript("job_1") == _transcript()
    raw = json.loads((store.root / "job_1" / "job.json").read_text("utf-8"))
    assert raw["source_name"] == "reunião.mp3" and raw["status"] == "done"
    _no_temp_files(store.root)


def test_fail_keeps_code_and_message(store: JobStore) -> None:
    store.create("j2")
    rec = store.fail("j2", "too_long", "O áudio excede o limite.")
    assert (rec.status, rec.stage) == ("failed", "failed")
    again = store.get("j2")
    assert again.error is not None
    assert (again.error.code, again.error.message) == ("too_long", "O áudio excede o limite.")
    with pytest.raises(ConflictError):
        store.transcript("j2")


def test_unknown_job_is_not_found(store: JobStore) -> None:
    with pytest.raises(NotFoundError) as info:
        store.get("never_made")
    assert info.value.status == 404 and "never_made" in info.value.message


def test_rename_speakers(store: JobStore) -> None:
    store.create("j3")
    store.complete("j3", _transcript())
    names = store.rename_speakers("j3", {"SPEAKER_00": "  Ana   Conceição "})
    assert names == {"SPEAKER_00": "Ana Conceição"}
    names = store.rename_speakers("j3", {"SPEAKER_01": "João"})
    assert names == {"SPEAKER_00": "Ana Conceição", "SPEAKER_01": "João"}
    tr = store.transcript("j3")
    assert tr.speaker_names == names
    assert tr.display_speaker("SPEAKER_01") == "João"
    assert json.loads((store.root / "j3" / "speakers.json").read_text("utf-8")) == names
    _no_temp_files(store.root)


@pytest.mark.parametrize(
    "names, fragment",
    [
        ({"SPEAKER_07": "Ana"}, "Unknown speaker label(s): SPEAKER_07"),
        ({"SPEAKER_00": "Ana", "ana": "Bia"}, "Known: SPEAKER_00, SPEAKER_01"),
        ({"SPEAKER_00": "   "}, "1–80 characters"),
        ({"SPEAKER_00": ""}, "1–80 characters"),
        ({"SPEAKER_00": "x" * 81}, "1–80 characters"),
    ],
)
def test_rename_speakers_rejects_bad_input(
    store: JobStore, names: dict[str, str], fragment: str
) -> None:
    store.create("j4")
    store.complete("j4", _transcript())
    store.rename_speakers("j4", {"SPEAKER_01": "Bia"})
    with pytest.raises(InvalidRequestError) as info:
        store.rename_speakers("j4", names)
    assert info.value.status == 400 and fragment in info.value.message
    assert store.transcript("j4").speaker_names == {"SPEAKER_01": "Bia"}  # nothing half-applied


def test_rename_needs_a_finished_job(store: JobStore) -> None:
    store.create("j5")
    with pytest.raises(ConflictError):
        store.rename_speakers("j5", {"SPEAKER_00": "Ana"})


@pytest.mark.parametrize(
    "bad", ["../x", "..", "a/b", "/etc", "x\\y", "", "a b", "x" * 129, "ok\n", "job.json", "é"]
)
def test_malformed_ids_are_rejected_everywhere(store: JobStore, bad: str) -> None:
    victim = store.root.parent / "x"
    victim.mkdir(exist_ok=True)
    (victim / "job.json").write_text(JobRecord(job_id="x").model_dump_json(), "utf-8")
    for call in (
        lambda: store.create(bad),
        lambda: store.get(bad),
        lambda: store.update(bad, stage="asr"),
        lambda: store.fail(bad, "x", "y"),
        lambda: store.complete(bad, _transcript()),
        lambda: store.transcript(bad),
        lambda: store.rename_speakers(bad, {}),
        lambda: store.delete(bad),
    ):
        with pytest.raises(InvalidRequestError) as info:
            call()
        assert info.value.message == "Malformed job id."
    assert (victim / "job.json").is_file()  # nothing outside the store was touched
    assert sorted(p.name for p in store.root.iterdir()) == []


def test_running_job_with_a_dead_worker_reads_as_failed(store: JobStore) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid is free
    store.create("lost")
    store.update("lost", status="running", stage="asr", pid=child.pid)
    rec = store.get("lost")
    assert (rec.status, rec.stage) == ("failed", "failed")
    assert rec.error is not None and rec.error.code == "worker_lost"
    assert "resubmit" in rec.error.message
    on_disk = json.loads((store.root / "lost" / "job.json").read_text("utf-8"))
    assert on_disk["status"] == "failed" and on_disk["error"]["code"] == "worker_lost"


def test_running_job_with_a_live_worker_stays_running(store: JobStore) -> None:
    store.create("alive")
    store.update("alive", status="running", pid=os.getpid())
    assert store.get("alive").status == "running"
    store.create("nopid")
    store.update("nopid", status="running")
    assert store.get("nopid").status == "running"


def test_bad_field_values_are_refused_and_the_record_stays_readable(store: JobStore) -> None:
    store.create("j6")
    store.update("j6", progress=0.5)
    for bad in ({"progress": 1.5}, {"status": "exploded"}):
        with pytest.raises(ValueError):
            store.update("j6", **bad)
        rec = store.get("j6")
        assert (rec.status, rec.progress) == ("queued", 0.5)


def test_concurrent_updates_never_leave_partial_or_temp_files(store: JobStore) -> None:
    store.create("busy")
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(40):
                store.update("busy", stage=f"w{k}", progress=round(i / 40, 3))
                store.get("busy")  # every read parses a whole record
        except BaseException as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert store.get("busy").stage.startswith("w")
    _no_temp_files(store.root)


def test_delete_and_purge(store: JobStore) -> None:
    for name in ("old", "new"):
        store.create(name)
    old_time = time.time() - 3600
    os.utime(store.root / "old" / "job.json", (old_time, old_time))
    assert store.purge_older_than(600) == 1
    assert sorted(p.name for p in store.root.iterdir()) == ["new"]
    store.delete("new")
    with pytest.raises(NotFoundError):
        store.get("new")
