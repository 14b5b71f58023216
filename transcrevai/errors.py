"""One exception hierarchy, mapped once to HTTP status + JSON error body.

Every error a client can see carries a stable machine-readable ``code``, a human
``message`` (never a stack trace or a file-system path) and the HTTP status to use.
"""

from __future__ import annotations

from typing import Any


class TranscrevAIError(Exception):
    """Base class: anything raised on purpose by TranscrevAI."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidRequestError(TranscrevAIError):
    """A request field has a bad value (422 would hide it among schema errors; 400 is clearer)."""

    status = 400
    code = "invalid_request"


class AudioError(TranscrevAIError):
    """The upload is not usable audio."""

    status = 400
    code = "invalid_audio"


class EmptyAudioError(AudioError):
    code = "empty_audio"


class UnsupportedMediaError(AudioError):
    status = 415
    code = "unsupported_media"


class NoAudioStreamError(AudioError):
    code = "no_audio_stream"


class TooLargeError(AudioError):
    status = 413
    code = "too_large"


class TooLongError(AudioError):
    status = 413
    code = "too_long"


class AuthError(TranscrevAIError):
    status = 401
    code = "unauthorized"


class NotFoundError(TranscrevAIError):
    status = 404
    code = "not_found"


class ConflictError(TranscrevAIError):
    """The resource exists but is not in a state that allows the request (e.g. job not finished)."""

    status = 409
    code = "conflict"


class ModelError(TranscrevAIError):
    """A model cannot be found, loaded or run."""

    status = 503
    code = "model_unavailable"


class ServiceUnavailableError(TranscrevAIError):
    """A backend (runner) is temporarily unreachable; the client should retry."""

    status = 503
    code = "service_unavailable"
