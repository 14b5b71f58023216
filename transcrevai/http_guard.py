"""ASGI middleware in front of every route: API keys, upload size, one error-body shape.

BentoML's own errors (input validation, unknown task id…) come as ``{"error": "text"}``;
they are rewritten to the product's ``{"error": {"code", "message"}}`` so clients parse one
shape. Oversized uploads are refused from Content-Length before any byte is read.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = ("/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/schema.json")
OPEN_PREFIXES = ("/static_content", "/assets", "/web/")
_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}

_INTERNAL = "An internal error occurred; it has been logged."


def error_body(status: int, message: str, code: str | None = None, detail: Any = None) -> bytes:
    err: dict[str, Any] = {"code": code or _CODES.get(status, "error"), "message": message}
    if detail is not None:
        err["detail"] = detail
    return json.dumps({"error": err}, ensure_ascii=False).encode("utf-8")


class GuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        api_keys: Callable[[], set[str]] | None = None,
        max_upload_bytes: Callable[[], float] | None = None,
        on_submit: Callable[[str, str], None] | None = None,
    ) -> None:
        self.app = app
        self.on_submit = on_submit
        self.api_keys = api_keys or (lambda: set())
        self.max_upload_bytes = max_upload_bytes or (lambda: float("inf"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        keys = self.api_keys()
        if keys and not _is_open(path) and not _authorised(headers, keys):
            await _send_error(
                send,
                401,
                "A valid API key is required (header 'Authorization: Bearer <key>' or 'X-API-Key').",
            )
            return
        length = headers.get("content-length")
        # multipart framing and form fields add a little to the file itself
        if length and length.isdigit() and int(length) > self.max_upload_bytes() + 65536:
            limit_mb = self.max_upload_bytes() / 1048576
            await _send_error(
                send,
                413,
                f"The upload is {int(length) / 1048576:.1f} MB; the limit is {limit_mb:g} MB.",
                "too_large",
            )
            return
        reshaper = _ErrorReshaper(send)
        if self.on_submit is not None and path.endswith("/submit") and scope["method"] == "POST":
            await self.app(scope, receive, _SubmitWatcher(reshaper, path, self.on_submit))
            return
        await self.app(scope, receive, reshaper)


class _SubmitWatcher:
    """Records a task id the moment BentoML accepts a submission, before the client sees it,
    so a status poll never races the start of the task."""

    def __init__(self, send: Send, path: str, hook: Callable[[str, str], None]) -> None:
        self.send, self.path, self.hook = send, path, hook
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            self.start = message
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(self.chunks)
        try:
            task_id = json.loads(body).get("task_id")
        except (ValueError, AttributeError):
            task_id = None
        if task_id:
            self.hook(self.path, str(task_id))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path == "/" or path.startswith(OPEN_PREFIXES)


def _authorised(headers: dict[str, str], keys: set[str]) -> bool:
    given = headers.get("x-api-key", "")
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return any(hmac.compare_digest(given.encode(), k.encode()) for k in keys) if given else False


async def _send_error(send: Send, status: int, message: str, code: str | None = None) -> None:
    body = error_body(status, message, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _ErrorReshaper:
    """Buffers JSON error responses (they are small) and rewrites foreign shapes."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            ctype = dict(message.get("headers", [])).get(b"content-type", b"")
            # JSON errors are reshaped; any 5xx is replaced whatever its type (tracebacks)
            status = message["status"]
            if status >= 500 or (status >= 400 and ctype.startswith(b"application/json")):
                self.start = message
                return
            await self.send(message)
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        status = self.start["status"]
        body = _reshape(status, b"".join(self.chunks))
        drop = (b"content-length", b"content-type")
        headers = [(k, v) for k, v in self.start.get("headers", []) if k.lower() not in drop]
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def _reshape(status: int, raw: bytes) -> bytes:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        if status >= 500:
            return error_body(status, _INTERNAL)
        return error_body(status, raw.decode("utf-8", "replace")[:500])
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]  # BentoML wraps some 4xx bodies in a list
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return raw
    if isinstance(data, dict):
        msg = data.get("error") or data.get("detail") or "Request failed."
        detail = data.get("detail") if data.get("error") else None
        fields = _clean_detail(detail)
        if fields:
            msg = "; ".join(
                f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields
            )
        if status >= 500:
            msg, detail = _INTERNAL, None
        return error_body(status, str(msg), detail=_clean_detail(detail))
    return error_body(status, "Request failed.")


def _clean_detail(detail: Any) -> Any:
    if not isinstance(detail, list):
        return None
    out = []
    for d in detail:
        if isinstance(d, dict):
            out.append(
                {"field": ".".join(str(x) for x in d.get("loc", [])), "message": d.get("msg", "")}
            )
    return out or None
