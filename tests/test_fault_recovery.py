"""Faults on real processes: killed runner, killed API worker, corrupt model, limits, auth,
and idle unload/reload while requests keep coming."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

from tests import synth
from tests.conftest import ROOT, Server, free_port, start_server, stop_server

TEXT = (
    "The committee met on Monday to discuss the budget for the next year. "
    "Several members asked for more money for schools and hospitals. "
    "The chairman said the city could not afford new roads this winter. "
    "After a long debate they agreed to vote again in two weeks. "
    "Reporters waited outside the building until late in the evening."
)


@pytest.fixture(scope="module")
def long_en(tmp_path_factory: pytest.TempPathFactory, espeak: None) -> Path:
    audio = synth.synthesize(TEXT, voice="en-us", speed=150)
    path = tmp_path_factory.mktemp("long") / "long.wav"
    synth.write_wav(path, audio)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("fault"), {"WHISPER_MODEL": "tiny.en"})
    yield s
    stop_server(s)


def worker_pid(server: Server, name: str) -> int:
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        cmd = " ".join(child.cmdline())
        if f"--service-name {name}" in cmd:
            return child.pid
    raise AssertionError(f"no {name} worker found")


def transcribe(server: Server, path: Path) -> httpx.Response:
    with server.client() as c, open(path, "rb") as fh:
        return c.post("/transcribe", files={"file": (path.name, fh)}, data={"language": "en"})


def wait_ready(server: Server, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            st = httpx.get(server.url + "/status", timeout=5).json()
            if st["whisper"].get("loaded"):
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError("runner did not come back")


def test_runner_killed_mid_request_recovers(server: Server, long_en: Path) -> None:
    """The in-flight request is retried by the service (or gets a clear 503); none is lost."""
    assert transcribe(server, long_en).status_code == 200  # warm
    old = worker_pid(server, "whisper_runner")
    result: dict[str, httpx.Response] = {}
    t = threading.Thread(target=lambda: result.update(r=transcribe(server, long_en)))
    t.start()
    time.sleep(1.0)
    os.kill(old, signal.SIGKILL)
    t.join(timeout=300)
    r = result["r"]
    if r.status_code == 503:  # allowed: clear, retryable; the client's retry must succeed
        assert r.json()["error"]["code"] == "service_unavailable" and r.headers.get("Retry-After")
        wait_ready(server)
        r = transcribe(server, long_en)
    assert r.status_code == 200, r.text
    assert "committee" in r.json()["text"].lower()
    assert worker_pid(server, "whisper_runner") != old


def test_job_whose_worker_dies_is_reported_failed(server: Server, long_en: Path) -> None:
    with server.client() as c, open(long_en, "rb") as fh:
        job = c.post(
            "/jobs/transcribe/submit", files={"file": ("long.wav", fh)}, data={"language": "en"}
        ).json()["task_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        st = httpx.get(f"{server.url}/jobs/{job}", timeout=5).json()
        if st["status"] == "running":
            break
        time.sleep(0.1)
    assert st["status"] == "running", st
    os.kill(worker_pid(server, "transcrevai"), signal.SIGKILL)
    deadline = time.time() + 120
    final = None
    while time.time() < deadline:
        try:
            final = httpx.get(f"{server.url}/jobs/{job}", timeout=5).json()
            if final["status"] in ("failed", "done"):
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    assert final is not None and final["status"] == "failed", final
    assert final["error"]["code"] == "worker_lost" and "resubmit" in final["error"]["message"]


def test_corrupt_model_is_a_clear_startup_error(tmp_path: Path) -> None:
    from transcrevai.models import tiny_en_from_package

    src = tiny_en_from_package()
    assert src is not None
    bad = tmp_path / "broken-model"
    bad.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (bad / name).write_bytes((src / name).read_bytes())
    (bad / "model.bin").write_bytes(np.random.default_rng(0).bytes(200_000))
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "true",
        "WHISPER_MODEL": str(bad),
        "BENTOML_HOME": str(tmp_path / "home"),
        "JOBS_DIR": str(tmp_path / "jobs"),
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("bentoml")), "serve", ".", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline and "cannot start" not in log.read_text(errors="replace"):
            time.sleep(1)
        text = log.read_text(errors="replace")
        assert "WhisperRunner cannot start" in text and "Check WHISPER_MODEL" in text
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=3).status_code
        except httpx.HTTPError:
            ready = None
        assert ready != 200
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(
        tmp_path_factory.mktemp("guarded"),
        {
            "WHISPER_MODEL": "tiny.en",
            "MAX_UPLOAD_MB": "1",
            "MAX_DURATION_S": "10",
            "TRANSCREVAI_API_KEYS": "k-one,k-two",
        },
    )
    yield s
    stop_server(s)


def test_api_keys(guarded: Server, en_speech: tuple[Path, str]) -> None:
    path = en_speech[0]
    with httpx.Client(base_url=guarded.url, timeout=300) as c:
        assert c.get("/readyz").status_code == 200  # probes stay open
        r = c.post("/transcribe", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = c.post(
            "/transcribe",
            files={"file": (path.name, path.read_bytes())},
            headers={"Authorization": "Bearer wrong"},
        )
        assert r.status_code == 401
        r = c.post(
            "/transcribe",
            files={"file": (path.name, path.read_bytes())},
            data={"language": "en"},
            headers={"X-API-Key": "k-two"},
        )
        assert r.status_code == 200, r.text


def test_oversized_and_overlong_inputs_rejected_up_front(guarded: Server, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    synth.write_wav(big, np.zeros(16000 * 40, dtype=np.float32))  # 1.28 MB > 1 MB
    long = tmp_path / "long.flac"
    import soundfile as sf

    sf.write(long, np.zeros(16000 * 20, dtype=np.float32), 16000)  # tiny file, 20 s > 10 s
    auth = {"Authorization": "Bearer k-one"}
    with httpx.Client(base_url=guarded.url, timeout=300) as c:
        r = c.post("/transcribe", files={"file": ("big.wav", big.read_bytes())}, headers=auth)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        r = c.post("/transcribe", files={"file": ("long.flac", long.read_bytes())}, headers=auth)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_long"
        assert "10" in r.json()["error"]["message"]


def test_unload_and_reload_under_load(tmp_path: Path, en_speech: tuple[Path, str]) -> None:
    s = start_server(
        tmp_path,
        {"WHISPER_MODEL": "tiny.en", "AUTO_UNLOAD_MODELS": "true", "MODEL_IDLE_TIMEOUT": "1"},
    )
    try:
        statuses: list[int] = []
        rss_loaded, rss_idle = [], []
        for _ in range(3):
            with cf.ThreadPoolExecutor(4) as pool:
                statuses += [
                    r.status_code for r in pool.map(lambda _: transcribe(s, en_speech[0]), range(4))
                ]
            rss_loaded.append(httpx.get(s.url + "/status", timeout=10).json()["whisper"]["rss_mb"])
            time.sleep(3.5)
            st = httpx.get(s.url + "/status", timeout=10).json()["whisper"]
            assert not st["loaded"], st
            rss_idle.append(st["rss_mb"])
        assert statuses == [200] * 12
        assert st["load_count"] >= 3 and st["unload_count"] >= 3
        assert min(rss_idle) < max(rss_loaded)
    finally:
        stop_server(s)
