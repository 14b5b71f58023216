"""Helpers shared by the benchmarks: real audio excerpts, a served instance, percentiles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "audio"
sys.path.insert(0, str(ROOT))


def camara_excerpts(n: int, seconds: float, out_dir: Path) -> list[Path]:
    """``n`` distinct excerpts of real plenary speech (../shared/audio/camara), as 16 kHz wav."""
    from transcrevai.audio import load_audio

    files = sorted((SHARED / "camara").glob("*/audio.mp3"))
    if not files:
        raise SystemExit("../shared/audio/camara is missing: the benchmark needs real speech")
    out: list[Path] = []
    step = int(seconds * 16000)
    for f in files:
        audio = load_audio(f).samples
        for start in range(0, audio.size - step + 1, step):
            p = out_dir / f"{f.parent.name}_{start // step:02d}.wav"
            sf.write(p, audio[start : start + step], 16000, subtype="PCM_16")
            out.append(p)
            if len(out) == n:
                return out
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`bentoml serve .` in a subprocess with the given environment."""

    def __init__(self, env: dict[str, str], wait: float = 240) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="bench-serve-", suffix=".log")[1])
        jobs = tempfile.mkdtemp(prefix="bench-jobs-")
        full = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "JOBS_DIR": jobs, **env}
        bentoml = Path(sys.executable).with_name("bentoml")
        self.proc = subprocess.Popen(
            [str(bentoml), "serve", ".", "--port", str(self.port), "--host", "127.0.0.1"],
            cwd=ROOT,
            env=full,
            stdout=open(self.log, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"server not ready; see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and every process it started (runners): on a
        shared machine it moves far less than wall time."""
        import psutil

        root = psutil.Process(self.proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")
