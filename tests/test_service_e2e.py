"""End to end through a real `bentoml serve`: transcripts, formats, errors, jobs, batching."""

from __future__ import annotations

import concurrent.futures as cf
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import Server
from tests.synth import simple_wer


def post(server: Server, path: Path, **fields: object) -> tuple[int, bytes, str]:
    with server.client() as c, open(path, "rb") as fh:
        r = c.post(
            "/transcribe",
            files={"file": (path.name, fh)},
            data={k: str(v) for k, v in fields.items()},
        )
    return r.status_code, r.content, r.headers.get("content-type", "")


def test_english_speech_on_tiny_en(tiny_server: Server, en_speech: tuple[Path, str]) -> None:
    path, text = en_speech
    status, body, _ = post(tiny_server, path, language="en")
    assert status == 200, body
    data = json.loads(body)
    assert simple_wer(text, data["text"]) <= 0.25, data["text"]
    assert data["language"] == "en"
    assert data["segments"] and data["segments"][0]["words"]
    w = data["segments"][0]["words"][0]
    assert set(w) >= {"word", "start", "end", "probability", "speaker"}


def test_portuguese_speech_on_base(base_server: Server, pt_speech: tuple[Path, str]) -> None:
    path, text = pt_speech
    status, body, _ = post(base_server, path)
    assert status == 200, body
    data = json.loads(body)
    assert data["language"] == "pt"
    assert simple_wer(text, data["text"]) <= 0.5, data["text"]
    for key in ("text", "language", "duration", "segments", "speakers"):
        assert key in data
    seg = data["segments"][0]
    assert {"start", "end", "text", "speaker", "words", "avg_logprob", "no_speech_prob"} <= set(seg)
    starts = [w["start"] for s in data["segments"] for w in s["words"]]
    assert starts == sorted(starts) and starts[-1] <= data["duration"]
    assert data["model"]["name"] == "base" and data["model"]["compute_type"] == "int8"


def test_language_detection_finds_portuguese(
    base_server: Server, pt_speech: tuple[Path, str]
) -> None:
    status, body, _ = post(base_server, pt_speech[0], language="auto")
    assert status == 200, body
    data = json.loads(body)
    assert data["language"] == "pt" and 0 < data["language_probability"] <= 1


@pytest.mark.parametrize(
    "fmt,check",
    [
        (
            "srt",
            lambda t: re.search(r"^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", t, re.M),
        ),
        ("vtt", lambda t: t.startswith("WEBVTT") and "-->" in t),
        ("txt", lambda t: "economia" in t.lower()),
        ("tsv", lambda t: t.splitlines()[0].split("\t")[:2] == ["start", "end"]),
    ],
)
def test_output_formats(
    base_server: Server, pt_speech: tuple[Path, str], fmt: str, check: object
) -> None:
    status, body, ctype = post(base_server, pt_speech[0], output_format=fmt)
    assert status == 200, body
    text = body.decode("utf-8")
    assert check(text), text  # type: ignore[operator]
    assert "json" not in ctype


def test_silence_gives_empty_transcript(base_server: Server, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000 * 5, dtype=np.float32), 16000)
    status, body, _ = post(base_server, path)
    assert status == 200, body
    data = json.loads(body)
    assert (
        data["text"] == ""
        and data["segments"] == []
        and data["duration"] == pytest.approx(5.0, abs=0.05)
    )


@pytest.mark.parametrize(
    "name,content,status,code",
    [
        ("empty.wav", b"", 400, "empty_audio"),
        ("fake.mp3", b"this is not audio at all " * 50, 415, "unsupported_media"),
        ("page.wav", b"<html><body>hello</body></html>" * 20, 415, "unsupported_media"),
    ],
)
def test_bad_uploads_are_clear_4xx(
    base_server: Server, tmp_path: Path, name: str, content: bytes, status: int, code: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    got, body, ctype = post(base_server, p)
    assert got == status and ctype.startswith("application/json")
    err = json.loads(body)["error"]
    assert err["code"] == code and err["message"] and "/tmp" not in err["message"]


def test_truncated_file_is_rejected(
    base_server: Server, pt_speech: tuple[Path, str], tmp_path: Path
) -> None:
    raw = pt_speech[0].read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(raw[: len(raw) // 3])
    got, body, _ = post(base_server, p)
    assert got == 400 and "truncated" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize(
    "fields,needle",
    [
        ({"num_speakers": 0}, "num_speakers"),
        ({"min_speakers": 4, "max_speakers": 2, "diarize": "true"}, "min_speakers"),
        ({"beam_size": "abc"}, "beam_size"),
        ({"language": "klingon"}, "language"),
        ({"output_format": "pdf"}, "output_format"),
    ],
)
def test_bad_options_are_400(
    base_server: Server, pt_speech: tuple[Path, str], fields: dict, needle: str
) -> None:
    got, body, _ = post(base_server, pt_speech[0], **fields)
    assert got == 400, body
    assert needle in json.loads(body)["error"]["message"]


def test_missing_file_field_is_400(base_server: Server) -> None:
    with base_server.client() as c:
        r = c.post("/transcribe", data={"language": "pt"}, files={"other": ("x.txt", b"x")})
    assert r.status_code == 400 and "file" in r.json()["error"]["message"]


def test_async_job_progress_result_and_formats(
    base_server: Server, pt_speech: tuple[Path, str]
) -> None:
    with base_server.client() as c, open(pt_speech[0], "rb") as fh:
        r = c.post(
            "/jobs/transcribe/submit", files={"file": ("pt.wav", fh)}, data={"language": "pt"}
        )
        assert r.status_code == 200, r.text
        job_id = r.json()["task_id"]
        seen = []
        deadline = time.time() + 300
        while time.time() < deadline:
            st = c.get(f"/jobs/{job_id}")
            assert st.status_code == 200, st.text
            seen.append(st.json())
            if st.json()["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert seen[-1]["status"] == "done", seen[-1]
        assert seen[-1]["progress"] == 1.0
        srt = c.get(f"/jobs/{job_id}/result", params={"format": "srt"})
        assert srt.status_code == 200 and "-->" in srt.text
        js = c.get(f"/jobs/{job_id}/result").json()
        assert simple_wer(pt_speech[1], js["text"]) <= 0.5
        assert (
            c.get("/jobs/transcribe/status", params={"task_id": job_id}).json()["status"]
            == "completed"
        )
        assert c.get("/jobs/does-not-exist").status_code == 404
        assert c.get(f"/jobs/{job_id}/result", params={"format": "bogus"}).status_code == 400


def test_async_job_failure_is_kept_with_reason(base_server: Server, tmp_path: Path) -> None:
    p = tmp_path / "bad.mp3"
    p.write_bytes(b"garbage" * 100)
    with base_server.client() as c, open(p, "rb") as fh:
        job_id = c.post("/jobs/transcribe/submit", files={"file": ("bad.mp3", fh)}).json()[
            "task_id"
        ]
        for _ in range(100):
            st = c.get(f"/jobs/{job_id}").json()
            if st["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert st["status"] == "failed" and st["error"]["code"] == "unsupported_media"
        assert c.get(f"/jobs/{job_id}/result").status_code == 409


def test_concurrent_requests_are_batched(base_server: Server, pt_speech: tuple[Path, str]) -> None:
    def one(_: int) -> int:
        return post(base_server, pt_speech[0])[0]

    with cf.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(8)))
    assert statuses == [200] * 8
    with base_server.client() as c:
        st = c.get("/status").json()
    sizes = {int(k): v for k, v in st["whisper"]["batch_sizes"].items()}
    assert max(sizes) > 1, sizes
    assert st["whisper"]["loaded"] and st["whisper"]["load_count"] == 1


def test_health_and_openapi(base_server: Server) -> None:
    with base_server.client() as c:
        assert c.get("/livez").status_code == 200
        assert c.get("/readyz").status_code == 200
        spec = c.get("/docs.json").json()
        assert "/transcribe" in spec["paths"] and "/jobs/transcribe/submit" in spec["paths"]
