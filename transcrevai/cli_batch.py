"""Runs many files through one engine: bounded concurrency, progress, resume, clean interrupts.

One failure never stops the others (it is recorded with its reason); an engine that cannot
start, or a server that refuses the API key, stops the run (exit 3). SIGINT/SIGTERM abandon
the files in flight (their outputs are never written, so nothing partial is left) and exit 130.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .cli_files import Item, atomic_write, extension, is_complete, sweep_temporaries, write_outputs
from .cli_local import Report
from .errors import AuthError, TranscrevAIError
from .types import TranscribeOptions, Transcript

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Engine(Protocol):
    async def start(self) -> str: ...
    async def run(
        self, path: Path, options: TranscribeOptions, formats: list[str], report: Report
    ) -> tuple[Transcript, dict[str, tuple[str, bytes]]]: ...
    async def close(self) -> None: ...


class SetupError(Exception):
    """Nothing can be transcribed (no model, server down, API key refused): exit 3."""


@dataclass
class RunConfig:
    options: TranscribeOptions
    formats: list[str]
    jobs: int = 1
    resume: bool = False  # batch: skip complete files, write markers, summary and failures
    report_dir: Path | None = None
    quiet: bool = False


@dataclass
class Tally:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    interrupted: bool = False
    started: float = field(default_factory=time.time)


def _describe(item: Item, t: Transcript, seconds: float, paths: list[Path]) -> str:
    speed = t.duration / seconds if seconds > 0 else 0.0
    parts = [f"{t.duration:.1f} s audio in {seconds:.1f} s ({speed:.1f}× real time)"]
    if t.speakers:
        parts.append(f"{len(t.speakers)} speaker{'s' if len(t.speakers) != 1 else ''}")
    lang = t.language or "no speech"
    if t.variety is not None:
        lang += f" ({t.variety.label} {t.variety.confidence:.2f})"
    parts.append(lang)
    outs = ", ".join(str(p) for p in paths)
    return f"ok    {item.label}: {' · '.join(parts)} → {outs}"


class Runner:
    def __init__(self, engine_factory: Callable[[], Engine], cfg: RunConfig) -> None:
        self.factory = engine_factory
        self.cfg = cfg
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.tally = Tally()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[stage]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            disable=cfg.quiet or not self.err.is_terminal,
        )
        self._overall: TaskID | None = None
        self._fractions: dict[str, float] = {}
        self._finished = 0
        self._n_todo = 0

    # -- public -----------------------------------------------------------------------------
    def run(self, items: list[Item]) -> int:
        cfg, tally = self.cfg, self.tally
        tally.total = len(items)
        formats = {f: extension(f) for f in cfg.formats}
        if cfg.resume and cfg.report_dir is not None:
            sweep_temporaries(cfg.report_dir)
        todo = [i for i in items if not (cfg.resume and is_complete(i, formats))]
        tally.skipped = len(items) - len(todo)
        code = EXIT_OK
        try:
            if todo:
                code = asyncio.run(self._run_all(todo))
        finally:
            self._write_reports()
        if cfg.resume:
            self._final_line()
        if tally.interrupted:
            return EXIT_INTERRUPTED
        return code if code != EXIT_OK else (EXIT_FAILED if tally.failures else EXIT_OK)

    # -- the event loop ---------------------------------------------------------------------
    async def _run_all(self, todo: list[Item]) -> int:
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()

        def on_signal() -> None:
            if not self.tally.interrupted:
                self.tally.interrupted = True
                self.err.print("interrupted: abandoning files in flight (nothing partial is kept)")
                if main is not None:
                    main.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        engine: Engine | None = None
        try:
            engine = self.factory()
            try:
                desc = await engine.start()
            except (TranscrevAIError, OSError, RuntimeError) as exc:
                raise SetupError(getattr(exc, "message", None) or str(exc)) from exc
            if not self.cfg.quiet:
                self.err.print(f"engine: {escape(desc)}")
            self._n_todo = len(todo)
            with self.progress:
                if len(todo) > 1:
                    self._overall = self.progress.add_task(
                        "all files", total=len(todo), stage=f"0/{len(todo)} files"
                    )
                queue = list(todo)
                workers = [
                    asyncio.create_task(self._worker(engine, queue))
                    for _ in range(max(1, min(self.cfg.jobs, len(todo))))
                ]
                try:
                    done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
                finally:
                    for w in workers:
                        w.cancel()
                for w in done:
                    error = None if w.cancelled() else w.exception()
                    if error is not None:
                        raise error
        except asyncio.CancelledError:
            if not self.tally.interrupted:
                raise
        except SetupError as exc:
            self.err.print(f"transcrevai: error: {exc}", markup=False, soft_wrap=True)
            return EXIT_SETUP
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            if engine is not None:
                await engine.close()
        return EXIT_OK

    async def _worker(self, engine: Engine, queue: list[Item]) -> None:
        while queue and not self.tally.interrupted:
            await self._one(engine, queue.pop(0))

    async def _one(self, engine: Engine, item: Item) -> None:
        cfg = self.cfg
        task = self.progress.add_task(escape(item.label[-48:]), total=1.0, stage="queued")
        self._fractions[item.label] = 0.0

        def report(stage: str, fraction: float) -> None:
            self.progress.update(task, completed=fraction, stage=stage)
            self._fractions[item.label] = fraction
            self._update_overall()

        started = time.perf_counter()
        try:
            if not item.source.is_file():
                raise TranscrevAIError("no such file", code="not_found")
            transcript, contents = await engine.run(item.source, cfg.options, cfg.formats, report)
            info = {"duration": transcript.duration, "options": cfg.options.model_dump()}
            paths = write_outputs(item, contents, info)
        except AuthError as exc:
            raise SetupError(exc.message) from exc
        except TranscrevAIError as exc:
            self._fail(item, exc.code, exc.message)
        except OSError as exc:
            self._fail(item, "io_error", exc.strerror or str(exc))
        except Exception as exc:  # one bad file must never stop the others
            self._fail(item, "internal_error", f"{exc.__class__.__name__}: {exc}")
        else:
            self.tally.done += 1
            self.tally.audio_seconds += transcript.duration
            if not cfg.quiet:
                line = _describe(item, transcript, time.perf_counter() - started, paths)
                self.out.print(line, markup=False, soft_wrap=True)
        finally:
            self.progress.remove_task(task)
            self._fractions.pop(item.label, None)
        self._finished += 1
        self._update_overall()

    def _fail(self, item: Item, code: str, message: str) -> None:
        self.tally.failures.append((item.label, code, message))
        self.err.print(f"FAIL  {item.label}: {code}: {message}", markup=False, soft_wrap=True)

    def _update_overall(self) -> None:
        if self._overall is not None:
            self.progress.update(
                self._overall,
                completed=self._finished + sum(self._fractions.values()),
                stage=f"{self._finished}/{self._n_todo} files",
            )

    # -- reports ----------------------------------------------------------------------------
    def _write_reports(self) -> None:
        out, t = self.cfg.report_dir, self.tally
        if out is None or not self.cfg.resume:
            return
        failures = out / "failures.tsv"
        if t.failures:
            buf = io.StringIO()
            writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
            writer.writerow(["path", "code", "message"])
            writer.writerows(t.failures)
            atomic_write(failures, buf.getvalue().encode("utf-8"))
        else:
            failures.unlink(missing_ok=True)
        summary: dict[str, Any] = {
            "total": t.total,
            "done": t.done,
            "skipped": t.skipped,
            "failed": len(t.failures),
            "pending": t.total - t.done - t.skipped - len(t.failures),
            "interrupted": t.interrupted,
            "audio_seconds": round(t.audio_seconds, 3),
            "elapsed_seconds": round(time.time() - t.started, 3),
            "formats": self.cfg.formats,
            "failures": [{"path": p, "code": c, "message": m} for p, c, m in t.failures],
        }
        atomic_write(
            out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1).encode()
        )

    def _final_line(self) -> None:
        t = self.tally
        elapsed = time.time() - t.started
        line = (
            f"{t.done} done, {t.skipped} skipped, {len(t.failures)} failed of {t.total} files "
            f"in {elapsed:.1f} s ({t.audio_seconds:.1f} s of audio transcribed)"
        )
        if t.interrupted:
            line += "; interrupted — run the same command again to resume"
        if t.failures and self.cfg.report_dir is not None:
            line += f"; failures listed in {self.cfg.report_dir / 'failures.tsv'}"
        self.out.print(line, markup=False, soft_wrap=True)
