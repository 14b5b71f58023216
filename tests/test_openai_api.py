"""The official OpenAI SDK, unchanged, against a real `bentoml serve` (base_url=…/v1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.synth import simple_wer

openai = pytest.importorskip("openai", reason="the openai SDK is a test extra")


@pytest.fixture(scope="module")
def client(base_server: Server) -> object:
    return openai.OpenAI(
        base_url=base_server.url + "/v1", api_key="unused", max_retries=0, timeout=600
    )


def test_models_lists_whisper_1_and_served_model(client: object) -> None:
    ids = [m.id for m in client.models.list()]  # type: ignore[attr-defined]
    assert ids[0] == "whisper-1" and "base" in ids


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
def test_each_response_format(client: object, pt_speech: tuple[Path, str], fmt: str) -> None:
    path, text = pt_speech
    with open(path, "rb") as fh:
        out = client.audio.transcriptions.create(  # type: ignore[attr-defined]
            model="whisper-1", file=fh, language="pt", response_format=fmt
        )
    if fmt == "json":
        said = out.text
    elif fmt == "verbose_json":
        said = out.text
        assert out.language == "portuguese" and out.duration > 0
        assert out.segments and out.segments[0].start >= 0
        extra = out.segments[0].model_dump()
        assert "speaker" in extra
    else:
        said = out if isinstance(out, str) else str(out)
        if fmt == "srt":
            assert "-->" in said and said.lstrip().startswith("1")
        if fmt == "vtt":
            assert said.startswith("WEBVTT")
    assert (
        simple_wer(text, said if fmt in ("json", "text", "verbose_json") else _strip_cues(said))
        <= 0.5
    )


def _strip_cues(sub: str) -> str:
    lines = [
        ln
        for ln in sub.splitlines()
        if ln.strip() and "-->" not in ln and not ln.strip().isdigit() and ln.strip() != "WEBVTT"
    ]
    return " ".join(lines)


def test_word_granularity(client: object, pt_speech: tuple[Path, str]) -> None:
    with open(pt_speech[0], "rb") as fh:
        out = client.audio.transcriptions.create(  # type: ignore[attr-defined]
            model="whisper-1",
            file=fh,
            response_format="verbose_json",
            timestamp_granularities=["word"],
            language="pt",
        )
    assert out.words and all(w.end >= w.start for w in out.words)
    assert any("economia" in w.word.lower() for w in out.words)


def test_unknown_model_and_bad_format_are_openai_errors(
    client: object, pt_speech: tuple[Path, str]
) -> None:
    with open(pt_speech[0], "rb") as fh, pytest.raises(openai.NotFoundError) as e1:
        client.audio.transcriptions.create(model="gpt-9", file=fh)  # type: ignore[attr-defined]
    assert e1.value.body["code"] == "model_not_found"  # type: ignore[index]
    with open(pt_speech[0], "rb") as fh, pytest.raises(openai.BadRequestError) as e2:
        client.audio.transcriptions.create(  # type: ignore[attr-defined]
            model="whisper-1",
            file=fh,
            response_format="pdf",  # type: ignore[arg-type]
        )
    assert "response_format" in json.dumps(e2.value.body)


def test_corrupt_upload_is_400(client: object, tmp_path: Path) -> None:
    bad = tmp_path / "x.mp3"
    bad.write_bytes(b"not audio" * 100)
    with open(bad, "rb") as fh, pytest.raises(openai.APIStatusError) as err:
        client.audio.transcriptions.create(model="whisper-1", file=fh)  # type: ignore[attr-defined]
    assert err.value.status_code == 415
