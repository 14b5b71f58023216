"""The web page in a real browser (Debian's chromium driven by playwright) on the real server.

One two-voice Portuguese conversation is uploaded through the page once (diarize on, exactly
two speakers); the tests then read what a person would see and use: coloured turns, words
that seek the player, a rename that reaches the downloads, error boxes, a phone-width layout.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import synth
from tests.conftest import ROOT, Server, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = ROOT / "docs" / "img" / "web.png"
TURNS = [
    "Bom dia. Hoje nós vamos conversar sobre a economia do Brasil e o preço dos alimentos.",
    "Concordo. O preço do feijão subiu muito nas feiras da cidade este ano.",
    "E o governo precisa investir mais na educação das crianças.",
    "Sim, as escolas públicas merecem professores bem pagos.",
]
RESULT_OR_ERROR = "#result:not([hidden]), #error:not([hidden])"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def conversation_wav(tmp_path_factory: pytest.TempPathFactory, espeak: None) -> Path:
    """Two voices taking turns: MBROLA br1/br3 where installed, else espeak-ng variants."""
    mbrola = synth.have_mbrola("br1") and synth.have_mbrola("br3")
    a, b = ("mb-br1", "mb-br3") if mbrola else ("pt-br", "pt-br+f3")
    audio, _ = synth.conversation([(a if i % 2 == 0 else b, t) for i, t in enumerate(TURNS)])
    return synth.write_wav(tmp_path_factory.mktemp("web") / "conversa.wav", audio)


def new_page(browser: Any, width: int = 1280, height: int = 900) -> Any:
    """A fresh context; JS errors and any request leaving the server are recorded on it."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.js_errors = []
    page.foreign = []
    page.on("pageerror", lambda e: page.js_errors.append(str(e)))
    page.on("console", lambda m: console_error(page, m))
    return page


def console_error(page: Any, message: Any) -> None:
    # a 4xx answer is logged by the browser itself; the page's own errors are what count
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.js_errors.append(message.text)


def watch_origin(page: Any, origin: str) -> None:
    def check(request: Any) -> None:
        if not request.url.startswith((origin, "blob:", "data:")):
            page.foreign.append(request.url)

    page.on("request", check)


def wait_outcome(page: Any) -> None:
    page.wait_for_selector(RESULT_OR_ERROR, timeout=300_000)


@pytest.fixture(scope="module")
def done_page(browser: Any, base_server: Server, conversation_wav: Path) -> Iterator[Any]:
    page = new_page(browser)
    watch_origin(page, base_server.url)
    page.goto(base_server.url + "/")
    page.set_input_files("#file", str(conversation_wav))
    page.check("#diarize")
    page.check("#spk-exact")
    page.fill("#num-speakers", "2")
    page.select_option("#language", "pt")
    page.click("#submit")
    wait_outcome(page)
    if page.is_visible("#error"):
        pytest.fail(f"the page showed an error: {page.inner_text('#error')}")
    yield page
    page.context.close()


def job_json(server: Server, page: Any) -> dict[str, Any]:
    job_id = page.get_attribute("#result", "data-job-id")
    with server.client() as c:
        return dict(c.get(f"/jobs/{job_id}/result").json())


def turns_on_page(page: Any) -> list[dict[str, str]]:
    return list(
        page.eval_on_selector_all(
            ".turn",
            """els => els.map(e => ({
                speaker: e.dataset.speaker || '',
                colour: getComputedStyle(e).borderLeftColor,
                name: (e.querySelector('button.speaker') || {}).textContent || '',
                text: e.querySelector('.turn-text').textContent.toLowerCase(),
            }))""",
        )
    )


def test_transcript_has_two_coloured_speakers_and_the_words(
    done_page: Any, base_server: Server
) -> None:
    turns = turns_on_page(done_page)
    colours = {t["speaker"]: t["colour"] for t in turns}
    assert len(colours) == 2 and "" not in colours, turns
    assert len(set(colours.values())) == 2, colours
    text = " ".join(t["text"] for t in turns)
    for word in ("economia", "brasil", "educação", "escolas", "públicas"):
        assert word in text, text

    def speaker_of(word: str) -> str:
        return next(t["speaker"] for t in turns if word in t["text"])

    # the first and third sentences are one voice, the fourth is the other voice
    assert speaker_of("economia") == speaker_of("educação") != speaker_of("escolas")
    data = job_json(base_server, done_page)
    # consecutive segments of one speaker are grouped into one turn
    runs = [s["speaker"] for s in data["segments"]]
    assert len(turns) == 1 + sum(a != b for a, b in zip(runs, runs[1:])), (turns, runs)
    assert all(a["speaker"] != b["speaker"] for a, b in zip(turns, turns[1:])), turns
    spans = done_page.eval_on_selector_all("#transcript span.w", "els => els.length")
    assert spans == sum(len(s["words"]) for s in data["segments"])
    assert done_page.js_errors == [] and done_page.foreign == []


def test_clicking_a_word_seeks_and_playback_highlights(done_page: Any, base_server: Server) -> None:
    data = job_json(base_server, done_page)
    word = next(w for s in data["segments"] for w in s["words"] if "escolas" in w["word"].lower())
    span = done_page.locator("#transcript span.w", has_text="escolas").first
    assert float(span.get_attribute("data-start")) == pytest.approx(word["start"], abs=1e-6)
    span.click()
    now = done_page.evaluate("document.getElementById('player').currentTime")
    assert abs(now - word["start"]) <= 0.3, (now, word)
    done_page.wait_for_function(
        "el => el.classList.contains('active')", arg=span.element_handle(), timeout=5000
    )
    # play from an earlier word; the highlighted word must be the one under the playhead
    done_page.evaluate(
        "() => { const p = document.getElementById('player'); p.muted = true;"
        " p.currentTime = 1.0; return p.play(); }"
    )
    done_page.wait_for_function(
        "() => document.getElementById('player').currentTime > 2.5", timeout=20_000
    )
    state = done_page.evaluate(
        """() => { const p = document.getElementById('player'); p.pause();
        const starts = [...document.querySelectorAll('#transcript span.w')]
            .map(s => Number(s.dataset.start));
        const a = document.querySelector('#transcript span.w.active');
        return {t: p.currentTime, active: a ? Number(a.dataset.start) : null, starts}; }"""
    )
    expected = max(s for s in state["starts"] if s <= state["t"] + 0.005)
    assert state["active"] == expected, state
    assert done_page.js_errors == []


def test_keyboard_moves_through_words_and_seeks(done_page: Any) -> None:
    spans = done_page.locator("#transcript span.w")
    tabbable = done_page.eval_on_selector_all(
        "#transcript span.w", "els => els.filter(e => e.tabIndex === 0).length"
    )
    assert tabbable == 1  # roving tabindex: the text is one tab stop, not hundreds
    spans.first.focus()
    for _ in range(4):
        done_page.keyboard.press("ArrowRight")
    target = float(spans.nth(4).get_attribute("data-start"))
    assert done_page.evaluate("() => Number(document.activeElement.dataset.start)") == target
    done_page.keyboard.press("Enter")
    now = done_page.evaluate("() => document.getElementById('player').currentTime")
    assert abs(now - target) <= 0.3, (now, target)


def test_renamed_speaker_reaches_every_download(
    done_page: Any, base_server: Server, tmp_path: Path
) -> None:
    label = done_page.get_attribute(".turn button.speaker", "data-speaker-label")
    done_page.click(".turn button.speaker")
    done_page.fill("input.speaker-input", "Ana Souza")
    done_page.press("input.speaker-input", "Enter")
    done_page.wait_for_function(
        "l => [...document.querySelectorAll(`button.speaker[data-speaker-label='${l}']`)]"
        ".every(b => b.textContent === 'Ana Souza')",
        arg=label,
        timeout=10_000,
    )
    names = {t["speaker"]: t["name"] for t in turns_on_page(done_page)}
    assert names[label] == "Ana Souza" and len(set(names.values())) == 2, names
    files: dict[str, Path] = {}
    for button in done_page.query_selector_all("#download-buttons button"):
        fmt = button.get_attribute("data-format")
        with done_page.expect_download() as info:
            button.click()
        dl = info.value
        files[fmt] = tmp_path / dl.suggested_filename
        dl.save_as(files[fmt])
    assert set(files) == {"json", "txt", "srt", "vtt", "tsv", "rttm", "docx", "textgrid", "eaf"}
    assert files["srt"].name == "conversa.srt" and files["textgrid"].suffix == ".TextGrid"
    assert all(p.stat().st_size > 0 for p in files.values())
    srt = files["srt"].read_text("utf-8")
    assert "-->" in srt and "[Ana Souza]" in srt, srt[:400]
    assert "Ana Souza" in files["vtt"].read_text("utf-8")
    assert json.loads(files["json"].read_text("utf-8"))["speaker_names"] == {label: "Ana Souza"}
    assert done_page.js_errors == [] and done_page.foreign == []


def test_phone_width_has_no_horizontal_overflow(done_page: Any, tmp_path: Path) -> None:
    done_page.screenshot(path=str(tmp_path / "web.png"), full_page=True)
    assert (tmp_path / "web.png").stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":  # refresh the README's picture on request
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "web.png", SCREENSHOT)
    done_page.set_viewport_size({"width": 375, "height": 740})
    try:
        width = done_page.evaluate("document.documentElement.scrollWidth")
        done_page.screenshot(path=str(tmp_path / "web-375.png"), full_page=True)
        assert width <= 375, width
        # the player and every download button stay inside the narrow screen
        for sel in ("#player", "#download-buttons button", ".turn", "#submit"):
            right = done_page.eval_on_selector_all(
                sel, "els => Math.max(...els.map(e => e.getBoundingClientRect().right))"
            )
            assert right <= 375, (sel, right)
    finally:
        done_page.set_viewport_size({"width": 1280, "height": 900})


def drop_file(page: Any, name: str, content: bytes, mime: str) -> None:
    """A real drop event on the drop zone, carrying a File built inside the page."""
    data = page.evaluate_handle(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: mime}));
            return dt; }""",
        [name, base64.b64encode(content).decode(), mime],
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": data})


def test_corrupt_file_shows_the_server_message(browser: Any, base_server: Server) -> None:
    page = new_page(browser)
    try:
        page.goto(base_server.url + "/")
        drop_file(page, "estragado.mp3", b"isto nao e audio " * 200, "audio/mpeg")
        assert "estragado.mp3" in page.inner_text("#file-name")
        with page.expect_response("**/jobs/transcribe/submit") as submitted:
            page.click("#submit")
        job_id = submitted.value.json()["task_id"]
        wait_outcome(page)
        with base_server.client() as c:
            record = c.get(f"/jobs/{job_id}").json()
        assert record["status"] == "failed", record
        message = record["error"]["message"]
        assert page.is_visible("#error") and not page.is_visible("#result")
        assert message and message in page.inner_text("#error-message")
        assert page.js_errors == []
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with an API key and a 1 MB upload limit (no model work happens on it)."""
    tmp = tmp_path_factory.mktemp("guarded")
    server = start_server(
        tmp,
        {
            "TRANSCREVAI_API_KEYS": "chave-web-teste",
            "MAX_UPLOAD_MB": "1",
            "WHISPER_MODEL": "tiny.en",
            "BENTOML_HOME": str(tmp / "bentoml"),  # its own task db beside other servers
        },
    )
    yield server
    stop_server(server)


def test_api_key_and_oversize_upload_show_server_messages(
    browser: Any, guarded_server: Server, tmp_path: Path
) -> None:
    big = tmp_path / "grande.wav"
    synth.write_wav(big, synth.synthesize("teste", voice="pt-br"))
    big.write_bytes(big.read_bytes() + bytes(3 * 1048576))  # 3 MB > the limit
    url = guarded_server.url
    with httpx.Client(base_url=url, timeout=60) as c, open(big, "rb") as fh:
        no_key = c.get("/jobs/x").json()["error"]["message"]
        too_big = c.post(
            "/jobs/transcribe/submit",
            files={"file": (big.name, fh)},
            headers={"Authorization": "Bearer chave-web-teste"},
        )
    assert too_big.status_code == 413
    page = new_page(browser)
    try:
        page.goto(url + "/")  # the page itself needs no key
        page.uncheck("#diarize")
        page.set_input_files("#file", str(big))
        page.click("#submit")
        wait_outcome(page)
        assert page.inner_text("#error-message") == no_key
        assert page.is_visible("#api-key")  # the key field was opened for the user
        page.fill("#api-key", "chave-web-teste")
        page.click("#submit")
        page.wait_for_function(
            "m => document.getElementById('error-message').textContent === m",
            arg=too_big.json()["error"]["message"],
            timeout=30_000,
        )
        page.reload()
        assert page.input_value("#api-key") == "chave-web-teste"  # kept in localStorage
        assert page.js_errors == []
    finally:
        page.context.close()
