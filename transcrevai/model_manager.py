"""The one piece of global mutable state: a model that loads once on demand and unloads when idle.

Scale-to-zero inside a replica: with ``auto_unload`` the model is released after
``idle_timeout`` seconds without use (RSS drops back), and the next request reloads it.
Concurrent first requests load it once (a lock), and a model in use is never unloaded.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

import psutil
from pydantic import BaseModel

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ModelStatus(BaseModel):
    name: str
    loaded: bool
    load_count: int
    unload_count: int
    in_use: int
    last_used: float | None
    idle_seconds: float | None
    auto_unload: bool
    idle_timeout: float
    rss_mb: float
    last_load_seconds: float | None = None
    last_error: str | None = None


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1048576


def _trim_heap() -> None:
    """Give freed pages back to the OS so an unload shows in RSS (glibc keeps them otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class ModelManager(Generic[T]):
    def __init__(
        self,
        name: str,
        loader: Callable[[], T],
        *,
        auto_unload: bool = False,
        idle_timeout: float = 300.0,
        check_interval: float | None = None,
    ) -> None:
        self.name = name
        self._loader = loader
        self.auto_unload = auto_unload
        self.idle_timeout = idle_timeout
        self._model: T | None = None
        self._lock = threading.RLock()
        self._in_use = 0
        self._last_used: float | None = None
        self._load_count = 0
        self._unload_count = 0
        self._last_load_seconds: float | None = None
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if auto_unload:
            interval = check_interval or max(0.2, min(idle_timeout / 4, 30.0))
            self._watcher = threading.Thread(
                target=self._watch, args=(interval,), name=f"unload-{name}", daemon=True
            )
            self._watcher.start()

    # -- use -----------------------------------------------------------------------------
    def _ensure_loaded(self) -> T:
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                try:
                    self._model = self._loader()
                except Exception as exc:
                    self._last_error = f"{exc.__class__.__name__}: {exc}"
                    raise
                self._last_load_seconds = time.perf_counter() - started
                self._load_count += 1
                self._last_error = None
                logger.info("%s loaded in %.2fs", self.name, self._last_load_seconds)
            return self._model

    @contextmanager
    def use(self) -> Iterator[T]:
        """Hold the model for one unit of work; the idle clock restarts when it is released."""
        with self._lock:
            model = self._ensure_loaded()
            self._in_use += 1
        try:
            yield model
        finally:
            with self._lock:
                self._in_use -= 1
                self._last_used = time.monotonic()

    def preload(self) -> None:
        with self.use():
            pass

    # -- unload --------------------------------------------------------------------------
    def unload(self) -> bool:
        with self._lock:
            if self._model is None or self._in_use:
                return False
            self._model = None
            self._unload_count += 1
        gc.collect()
        _trim_heap()
        logger.info("%s unloaded (idle)", self.name)
        return True

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                idle = self._idle_seconds()
                due = self._model is not None and not self._in_use and idle is not None
                due = due and idle is not None and idle >= self.idle_timeout
            if due:
                self.unload()

    def _idle_seconds(self) -> float | None:
        return None if self._last_used is None else time.monotonic() - self._last_used

    def close(self) -> None:
        self._stop.set()

    # -- observe -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def status(self) -> ModelStatus:
        with self._lock:
            idle = self._idle_seconds()
            return ModelStatus(
                name=self.name,
                loaded=self._model is not None,
                load_count=self._load_count,
                unload_count=self._unload_count,
                in_use=self._in_use,
                last_used=None if idle is None else time.time() - idle,
                idle_seconds=idle,
                auto_unload=self.auto_unload,
                idle_timeout=self.idle_timeout,
                rss_mb=round(rss_mb(), 1),
                last_load_seconds=self._last_load_seconds,
                last_error=self._last_error,
            )
