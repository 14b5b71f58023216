"""Helpers of scripts/loadtest.sh: sample the server's memory, settle pending jobs, report.

Subcommands (each one small, so the shell script stays the one place that orders them):
  sample   RSS/PSS of a process and all its descendants every second → JSON lines
  snapshot one such measurement → JSON on stdout
  drain    wait (bounded) until every job the ledger lists as pending is done or failed
  summarize  locust CSV + ledger + memory samples → reports/loadtest-<users>.{json,md};
             exit 1 on any failed request, failed or lost job, or slow /readyz
  idle-run      load a running server briefly, stay idle, measure memory (one AUTO_UNLOAD mode)
  idle-summary  the AUTO_UNLOAD_MODELS true/false comparison → reports/idle-rss.{json,md}
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

READYZ_P95_LIMIT_MS = 200.0


# -- memory -------------------------------------------------------------------------------
def tree_memory(pid: int) -> dict[str, float]:
    """Summed RSS and PSS (MiB) of ``pid`` and its descendants; PSS counts shared pages once."""
    root = psutil.Process(pid)
    rss = pss = 0.0
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return {
        "rss_mb": round(rss / 1048576, 1),
        "pss_mb": round(pss / 1048576, 1),
        "procs": len(procs),
    }


def cmd_sample(args: argparse.Namespace) -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(args.out, "a", encoding="utf-8") as fh:
        while not stop and psutil.pid_exists(args.pid):
            try:
                row = {"t": round(time.time(), 2), **tree_memory(args.pid)}
            except psutil.NoSuchProcess:
                break
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            time.sleep(args.interval)


def cmd_snapshot(args: argparse.Namespace) -> None:
    out: dict[str, Any] = {"t": time.time(), **tree_memory(args.pid)}
    if args.url:
        out["status"] = httpx.get(args.url + "/status", timeout=30).json()
    print(json.dumps(out))


def read_samples(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


# -- jobs ---------------------------------------------------------------------------------
def cmd_drain(args: argparse.Namespace) -> None:
    ledger = json.loads(Path(args.ledger).read_text("utf-8"))
    pending = set(ledger["pending"])
    deadline = time.monotonic() + args.timeout
    print(f"draining {len(pending)} pending job(s) (at most {args.timeout:.0f} s)", flush=True)
    with httpx.Client(base_url=args.url, timeout=60, headers=_auth(args.api_key)) as client:
        while pending and time.monotonic() < deadline:
            for job_id in sorted(pending):
                try:
                    r = client.get(f"/jobs/{job_id}")
                except httpx.HTTPError:
                    continue
                rec = r.json() if r.status_code == 200 else None
                if r.status_code == 404:
                    rec = {"status": "lost", "updated": time.time(), "error": "404 not found"}
                if rec and rec.get("status") in ("done", "failed", "lost"):
                    ledger["jobs"][job_id].update(
                        status=rec["status"], finished_at=rec.get("updated"), error=rec.get("error")
                    )
                    pending.discard(job_id)
            if pending:
                time.sleep(args.poll)
    states = [j["status"] for j in ledger["jobs"].values()]
    ledger.update(
        completed=states.count("done"),
        failed=states.count("failed"),
        lost=states.count("lost") + len(pending),
        pending=sorted(pending),
        drained_at=time.time(),
    )
    Path(args.ledger).write_text(json.dumps(ledger, indent=1), encoding="utf-8")
    print(f"after drain: {len(pending)} job(s) still pending", flush=True)
    if args.status_out:
        Path(args.status_out).write_text(json.dumps(_status(args)), encoding="utf-8")


def _status(args: argparse.Namespace) -> dict[str, Any]:
    """GET /status once the Whisper runner answers (it is busy while abandoned requests run)."""
    out: dict[str, Any] = {}
    for _ in range(60):
        try:
            out = httpx.get(args.url + "/status", timeout=30, headers=_auth(args.api_key)).json()
        except httpx.HTTPError:
            pass
        if "batch_sizes" in out.get("whisper", {}):
            break
        time.sleep(5)
    return out


def _auth(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


# -- report -------------------------------------------------------------------------------
def read_locust_stats(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "type": r["Type"],
                    "name": r["Name"],
                    "requests": int(r["Request Count"]),
                    "failures": int(r["Failure Count"]),
                    "p50_ms": _num(r["50%"]),
                    "p95_ms": _num(r["95%"]),
                    "p99_ms": _num(r["99%"]),
                    "max_ms": _round(_num(r["Max Response Time"])),
                }
            )
    return rows


def _round(x: float | None) -> float | None:
    return None if x is None else round(x)


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "N/A" when an endpoint saw no request
        return None


def build_report(args: argparse.Namespace) -> dict[str, Any]:
    stats = read_locust_stats(Path(args.stats))
    ledger = json.loads(Path(args.ledger).read_text("utf-8"))
    samples = read_samples(Path(args.rss))
    jobs = ledger["jobs"].values()
    done = [j for j in jobs if j["status"] == "done"]
    audio_s = sum(j.get("audio_s") or 0.0 for j in done) + ledger.get("sync_audio_s", 0.0)
    ends = [j["finished_at"] for j in done if j.get("finished_at")]
    wall = max([ledger["stopped"], *ends]) - ledger["started"]
    total = next((r for r in stats if r["name"] == "Aggregated"), None)
    readyz = next((r for r in stats if r["name"] == "/readyz"), None)
    readyz_p95 = readyz["p95_ms"] if readyz else None
    exact = sorted(ledger.get("probe_ms", {}).get("/readyz", []))
    if exact:  # the locustfile's own timings; Locust's CSV rounds to 2 significant digits
        readyz_p95 = _pct(exact, 95)
    status = json.loads(Path(args.status).read_text("utf-8")) if args.status else {}
    e2e = sorted(j["finished_at"] - j["submitted_at"] for j in done if j.get("finished_at"))
    report = {
        "users": args.users,
        "model": args.model,
        "run_seconds": args.seconds,
        "requests": total["requests"] if total else 0,
        "failures": total["failures"] if total else 0,
        "endpoints": [r for r in stats if r["name"] != "Aggregated"],
        "jobs": {
            "submitted": len(ledger["jobs"]),
            "completed": len(done),
            "failed": sum(1 for j in jobs if j["status"] == "failed"),
            "lost": ledger.get("lost", len(ledger["pending"])),
            "submit_errors": ledger.get("submit_errors", 0),
        },
        "job_end_to_end_s": {
            "p50": _pct(e2e, 50),
            "p95": _pct(e2e, 95),
            "max": round(e2e[-1], 1) if e2e else None,
        },
        "sync_ok": ledger.get("sync_ok", 0),
        "audio_seconds_processed": round(audio_s, 1),
        "wall_seconds": round(wall, 1),
        "throughput_x_realtime": round(audio_s / wall, 3) if wall > 0 else None,
        "memory": {
            "peak_rss_mb": max((s["rss_mb"] for s in samples), default=None),
            "peak_pss_mb": max((s["pss_mb"] for s in samples), default=None),
            "first_rss_mb": samples[0]["rss_mb"] if samples else None,
            "samples": len(samples),
        },
        "readyz_p95_ms": readyz_p95,
        "readyz_fast": readyz_p95 is not None and readyz_p95 < READYZ_P95_LIMIT_MS,
        "whisper_batch_sizes": (status.get("whisper") or {}).get("batch_sizes"),
        "cpu_count": psutil.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in psutil.getloadavg()],
    }
    j = report["jobs"]
    report["passed"] = (
        report["failures"] == 0
        and j["failed"] == 0
        and j["lost"] == 0
        and j["submitted"] == j["completed"]
        and report["readyz_fast"]
    )
    return report


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[k], 1)


def markdown(r: dict[str, Any]) -> str:
    j, m = r["jobs"], r["memory"]
    lines = [
        f"# Load test: {r['users']} users, model {r['model']}, {r['run_seconds']} s of load",
        "",
        f"- result: **{'PASS' if r['passed'] else 'FAIL'}**",
        f"- requests {r['requests']}, failures {r['failures']}",
        f"- jobs submitted {j['submitted']}, completed {j['completed']}, failed {j['failed']}, "
        f"lost {j['lost']} (submit errors {j['submit_errors']}); sync transcriptions {r['sync_ok']}",
        f"- job submit → done: p50 {r['job_end_to_end_s']['p50']} s, "
        f"p95 {r['job_end_to_end_s']['p95']} s, max {r['job_end_to_end_s']['max']} s",
        f"- audio processed {r['audio_seconds_processed']} s in {r['wall_seconds']} s wall "
        f"→ throughput {r['throughput_x_realtime']}× real time",
        f"- peak memory of the server process tree: RSS {m['peak_rss_mb']} MiB, "
        f"PSS {m['peak_pss_mb']} MiB (at start {m['first_rss_mb']} MiB RSS)",
        f"- /readyz p95 {r['readyz_p95_ms']} ms → {'< 200 ms' if r['readyz_fast'] else '≥ 200 ms'}",
        f"- Whisper batch sizes seen {{size: count}}: {r['whisper_batch_sizes']}",
        f"- machine: {r['cpu_count']} CPUs, load average at end {r['load_average_at_end']} "
        "(shared with other work)",
        "",
        "| endpoint | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in r["endpoints"]:
        lines.append(
            f"| {e['type']} {e['name']} | {e['requests']} | {e['failures']} | {e['p50_ms']} "
            f"| {e['p95_ms']} | {e['p99_ms']} | {e['max_ms']} |"
        )
    return "\n".join(lines) + "\n"


def cmd_summarize(args: argparse.Namespace) -> None:
    report = build_report(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    sys.exit(0 if report["passed"] else 1)


def cmd_idle_run(args: argparse.Namespace) -> None:
    """A few concurrent transcriptions (both models load), then ``--wait`` idle seconds."""
    import concurrent.futures as cf
    import threading

    clips = sorted(p for p in Path(args.clips).glob("*") if p.suffix in (".wav", ".mp3"))[:4]
    peak = [tree_memory(args.pid)["rss_mb"]]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(1.0):
            peak.append(tree_memory(args.pid)["rss_mb"])

    def one(path: Path) -> int:
        with open(path, "rb") as fh:
            r = httpx.post(
                args.url + "/transcribe",
                files={"file": (path.name, fh)},
                data={"language": "pt", "diarize": str(args.diarize).lower()},
                timeout=1800,
            )
        return r.status_code

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with cf.ThreadPoolExecutor(len(clips)) as pool:
        codes = list(pool.map(one, clips))
    done.set()
    busy = httpx.get(args.url + "/status", timeout=30).json()
    time.sleep(args.wait)
    after = {**tree_memory(args.pid), "status": httpx.get(args.url + "/status", timeout=30).json()}
    result = {"codes": codes, "peak_rss_mb": max(peak), "busy_status": busy, "after": after}
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("codes", "peak_rss_mb")}), after["rss_mb"])


def cmd_idle_summary(args: argparse.Namespace) -> None:
    runs = {}
    for item in args.runs:
        label, path = item.split("=", 1)
        runs[label] = json.loads(Path(path).read_text("utf-8"))
    lines = [
        f"# Memory after idle: AUTO_UNLOAD_MODELS true vs false (MODEL_IDLE_TIMEOUT "
        f"{args.idle_timeout} s, measured {args.wait} s after the last request)",
        "",
        "| AUTO_UNLOAD_MODELS | peak RSS MiB | RSS after idle MiB | PSS after idle MiB "
        "| whisper loaded | diarization loaded | whisper unloads |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for label, r in runs.items():
        st = r["after"].get("status", {})
        w, d = st.get("whisper", {}), st.get("diarization", {})
        lines.append(
            f"| {label} | {r['peak_rss_mb']} | {r['after']['rss_mb']} | {r['after']['pss_mb']} "
            f"| {w.get('loaded')} | {d.get('loaded')} | {w.get('unload_count')} |"
        )
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(runs, indent=1), encoding="utf-8")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--interval", type=float, default=1.0)
    s = sub.add_parser("snapshot")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--url")
    s = sub.add_parser("drain")
    s.add_argument("--url", required=True)
    s.add_argument("--ledger", required=True)
    s.add_argument("--timeout", type=float, default=1200)
    s.add_argument("--poll", type=float, default=5)
    s.add_argument("--api-key")
    s.add_argument("--status-out", help="write GET /status here after draining")
    s = sub.add_parser("summarize")
    for name in ("--stats", "--ledger", "--rss", "--out", "--model"):
        s.add_argument(name, required=True)
    s.add_argument("--status")
    s.add_argument("--users", type=int, required=True)
    s.add_argument("--seconds", type=int, required=True)
    s = sub.add_parser("idle-run")
    s.add_argument("--url", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--clips", required=True)
    s.add_argument("--wait", type=float, required=True)
    s.add_argument("--diarize", action="store_true")
    s.add_argument("--out", required=True)
    s = sub.add_parser("idle-summary")
    s.add_argument("runs", nargs="+", help="LABEL=path/to/run.json")
    s.add_argument("--out", required=True)
    s.add_argument("--idle-timeout", type=float, required=True)
    s.add_argument("--wait", type=float, required=True)
    args = ap.parse_args()
    {
        "sample": cmd_sample,
        "snapshot": cmd_snapshot,
        "drain": cmd_drain,
        "summarize": cmd_summarize,
        "idle-run": cmd_idle_run,
        "idle-summary": cmd_idle_summary,
    }[args.cmd](args)


if __name__ == "__main__":
    main()
