"""GuardMiddleware in front of a small Starlette app, driven through httpx's ASGI transport:
API keys, upload size, one error-body shape, no leaks from 5xx, the submit hook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from transcrevai.http_guard import GuardMiddleware

SECRET = "Traceback (most recent call last): File /srv/app/service.py password=hunter2"


class _Form(BaseModel):
    beam_size: int = Field(ge=1, le=10)
    language: str


def _pydantic_errors() -> list[dict[str, Any]]:
    try:
        _Form.model_validate({"beam_size": 99})
    except ValidationError as exc:
        return json.loads(exc.json())
    raise AssertionError("validation should fail")


async def _ok(request: Request) -> Response:
    return JSONResponse({"ok": True, "texto": "ação"}, headers={"x-extra": "1"})


async def _upload(request: Request) -> Response:
    request.app.state.bodies_read += 1
    return JSONResponse({"bytes": len(await request.body())})


async def _stream(request: Request) -> Response:
    async def parts() -> Any:
        for i in range(3):
            yield f"parte {i}\n".encode()

    return StreamingResponse(parts(), media_type="text/plain; charset=utf-8")


async def _submit(request: Request) -> Response:
    if request.query_params.get("bad"):
        return JSONResponse({"error": "Invalid input: file is required"}, status_code=400)
    return JSONResponse({"task_id": "task-123", "status": "in_progress"})


async def _crash(request: Request) -> Response:
    raise RuntimeError(SECRET)


ERRORS: dict[str, tuple[int, Any]] = {
    "text": (400, {"error": "Invalid input for field 'file'"}),
    "list": (404, [{"error": "Task not found"}]),
    "detail": (422, {"error": "Invalid request body", "detail": _pydantic_errors()}),
    "fastapi": (404, {"detail": "Not Found"}),
    "ours": (409, {"error": {"code": "conflict", "message": "Job is running."}}),
    "leak": (500, {"error": SECRET}),
    "leak_detail": (500, {"error": "boom", "detail": [{"loc": ["x"], "msg": SECRET}]}),
    "leak_503": (503, {"error": SECRET}),
}


async def _error(request: Request) -> Response:
    status, body = ERRORS[request.path_params["kind"]]
    return JSONResponse(body, status_code=status)


async def _raw_500(request: Request) -> Response:
    return Response(SECRET.encode(), status_code=500, media_type="application/json")


async def _text_500(request: Request) -> Response:
    return PlainTextResponse(SECRET, status_code=500)


def _app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/ok", _ok),
            Route("/livez", _ok),
            Route("/readyz", _ok),
            Route("/upload", _upload, methods=["POST"]),
            Route("/stream", _stream),
            Route("/transcribe/submit", _submit, methods=["POST"]),
            Route("/crash", _crash),
            Route("/error/{kind}", _error),
            Route("/raw500", _raw_500),
            Route("/text500", _text_500),
        ]
    )
    app.state.bodies_read = 0
    return app


def _call(
    method: str,
    path: str,
    *,
    keys: set[str] | None = None,
    max_bytes: float | None = None,
    hook: list[tuple[str, str]] | None = None,
    wrap: bool = True,
    **kw: Any,
) -> tuple[httpx.Response, Starlette]:
    app = _app()
    asgi: Any = app
    if wrap:
        asgi = GuardMiddleware(
            asgi,
            api_keys=(lambda: keys) if keys is not None else None,
            max_upload_bytes=(lambda: max_bytes) if max_bytes is not None else None,
            on_submit=(lambda p, t: hook.append((p, t))) if hook is not None else None,
        )

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kw)

    return asyncio.run(go()), app


def _error_shape(resp: httpx.Response) -> dict[str, Any]:
    assert resp.headers["content-type"].startswith("application/json")
    assert int(resp.headers["content-length"]) == len(resp.content)
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert set(err) <= {"code", "message", "detail"}
    return err


# --- API keys -----------------------------------------------------------------------------


def test_no_keys_configured_means_open() -> None:
    resp, _ = _call("GET", "/ok")
    assert resp.status_code == 200 and resp.json()["ok"] is True
    resp, _ = _call("GET", "/ok", keys=set())
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": "k1"},
     {"Authorization": "Basic azE6"}, {"X-API-Key": ""}, {"X-API-Key": "k1 "}],
)  # fmt: skip
def test_missing_or_wrong_key_is_401(headers: dict[str, str]) -> None:
    resp, _ = _call("GET", "/ok", keys={"k1", "k2"}, headers=headers)
    assert resp.status_code == 401
    err = _error_shape(resp)
    assert err["code"] == "unauthorized" and "API key" in err["message"]


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer k1"}, {"authorization": "bearer k2"}, {"X-API-Key": "k2"},
     {"Authorization": "Bearer k1", "X-API-Key": "nope"}],
)  # fmt: skip
def test_right_key_passes(headers: dict[str, str]) -> None:
    resp, _ = _call("GET", "/ok", keys={"k1", "k2"}, headers=headers)
    assert resp.status_code == 200 and resp.json()["ok"] is True


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_probes_stay_open_with_keys(path: str) -> None:
    resp, _ = _call("GET", path, keys={"k1"})
    assert resp.status_code == 200


def test_upload_without_key_is_refused_before_the_body_is_read() -> None:
    resp, app = _call("POST", "/upload", keys={"k1"}, content=b"x" * 1000)
    assert resp.status_code == 401
    assert app.state.bodies_read == 0


# --- upload size ------------------------------------------------------------------------------


def test_content_length_over_the_limit_is_413_before_reading() -> None:
    limit = 1024 * 1024
    # a small allowance covers multipart framing around a file of exactly the limit
    resp, app = _call("POST", "/upload", max_bytes=limit, content=b"\0" * (limit + 65537))
    assert resp.status_code == 413
    err = _error_shape(resp)
    assert err["code"] == "too_large"
    assert "limit is 1 MB" in err["message"]
    assert app.state.bodies_read == 0

    resp, app = _call("POST", "/upload", max_bytes=limit, content=b"\0" * limit)
    assert resp.status_code == 200 and resp.json() == {"bytes": limit}


# --- error bodies -----------------------------------------------------------------------------


def test_bentoml_text_error_is_reshaped() -> None:
    resp, _ = _call("GET", "/error/text")
    assert resp.status_code == 400
    assert _error_shape(resp) == {
        "code": "invalid_request",
        "message": "Invalid input for field 'file'",
    }


def test_bentoml_list_error_is_reshaped() -> None:
    resp, _ = _call("GET", "/error/list")
    assert resp.status_code == 404
    assert _error_shape(resp) == {"code": "not_found", "message": "Task not found"}


def test_fastapi_detail_string_is_reshaped() -> None:
    resp, _ = _call("GET", "/error/fastapi")
    assert resp.status_code == 404
    assert _error_shape(resp) == {"code": "not_found", "message": "Not Found"}


def test_pydantic_detail_becomes_field_messages() -> None:
    resp, _ = _call("GET", "/error/detail")
    assert resp.status_code == 422
    err = _error_shape(resp)
    assert err["code"] == "invalid_request"
    fields = {d["field"]: d["message"] for d in err["detail"]}
    assert set(fields) == {"beam_size", "language"}
    assert "less than or equal to 10" in fields["beam_size"]
    assert fields["language"] == "Field required"
    assert "beam_size: " in err["message"] and "language: Field required" in err["message"]
    assert "url" not in json.dumps(err) and "input" not in json.dumps(err["detail"])


def test_our_own_error_shape_passes_unchanged() -> None:
    wrapped, _ = _call("GET", "/error/ours")
    bare, _ = _call("GET", "/error/ours", wrap=False)
    assert wrapped.status_code == 409
    assert wrapped.content == bare.content


@pytest.mark.parametrize("path", ["/error/leak", "/error/leak_detail", "/error/leak_503",
                                  "/raw500", "/text500", "/crash"])  # fmt: skip
def test_5xx_bodies_never_leak(path: str) -> None:
    resp, _ = _call("GET", path)
    assert resp.status_code >= 500
    err = _error_shape(resp)
    assert err["code"] in ("internal_error", "service_unavailable")
    for secret in ("hunter2", "/srv/app", "Traceback", "boom"):
        assert secret not in resp.text
    assert "detail" not in err


def test_non_error_responses_are_untouched() -> None:
    for path in ("/ok", "/stream"):
        wrapped, _ = _call("GET", path, keys={"k1"}, max_bytes=10.0, headers={"X-API-Key": "k1"})
        bare, _ = _call("GET", path, wrap=False)
        assert wrapped.status_code == bare.status_code == 200
        assert wrapped.content == bare.content
        assert wrapped.headers.multi_items() == bare.headers.multi_items()
    assert wrapped.text == "parte 0\nparte 1\nparte 2\n"


# --- the submit hook ------------------------------------------------------------------------


def test_on_submit_gets_the_task_id_and_the_client_the_body() -> None:
    seen: list[tuple[str, str]] = []
    resp, _ = _call("POST", "/transcribe/submit", hook=seen)
    assert seen == [("/transcribe/submit", "task-123")]
    assert resp.status_code == 200
    assert resp.json() == {"task_id": "task-123", "status": "in_progress"}


def test_on_submit_is_not_called_for_a_refused_submission() -> None:
    seen: list[tuple[str, str]] = []
    resp, _ = _call("POST", "/transcribe/submit?bad=1", hook=seen)
    assert seen == []
    assert resp.status_code == 400
    assert _error_shape(resp)["message"] == "Invalid input: file is required"
    resp, _ = _call("GET", "/ok", hook=seen)
    assert seen == [] and resp.status_code == 200
