"""Typed results and options shared by the pipeline, the runners, the API and every export.

Times are seconds (float); speakers are ``SPEAKER_00``… or a user-chosen display name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OutputFormat = Literal["json", "txt", "srt", "vtt", "tsv", "rttm", "docx", "textgrid", "eaf"]
Task = Literal["transcribe", "translate"]
VarietyLabel = Literal["pt-BR", "pt-PT", "pt-AF"]


class Word(BaseModel):
    word: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None


class Segment(BaseModel):
    id: int = 0
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = Field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None


class SpeakerTurn(BaseModel):
    """One contiguous stretch of a single speaker (RTTM's SPEAKER line)."""

    start: float
    end: float
    speaker: str


class VarietyResult(BaseModel):
    label: VarietyLabel
    confidence: float = Field(ge=0.0, le=1.0)
    scores: dict[str, float] = Field(default_factory=dict)
    evidence: list[str] = Field(default_factory=list)


class ModelInfo(BaseModel):
    name: str
    version: str = ""
    source: str = ""
    compute_type: str = ""
    device: str = ""


class Transcript(BaseModel):
    """The one result type: every export, the API and the CLI read this."""

    model_config = ConfigDict(protected_namespaces=())

    text: str = ""
    language: str | None = None
    language_probability: float | None = None
    duration: float = 0.0
    segments: list[Segment] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    turns: list[SpeakerTurn] = Field(default_factory=list)
    speaker_names: dict[str, str] = Field(default_factory=dict)
    variety: VarietyResult | None = None
    model: ModelInfo | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    source_name: str | None = None

    def display_speaker(self, speaker: str | None) -> str | None:
        """The user's name for a speaker label where one was given (renames reach every export)."""
        if speaker is None:
            return None
        return self.speaker_names.get(speaker, speaker)

    def rebuild_text(self) -> None:
        self.text = " ".join(s.text.strip() for s in self.segments if s.text.strip())


class TranscribeOptions(BaseModel):
    """Per-request options (API form fields, CLI flags) with their validation."""

    language: str | None = "pt"
    task: Task = "transcribe"
    word_timestamps: bool = True
    beam_size: int = Field(default=5, ge=1, le=10)
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)
    initial_prompt: str | None = Field(default=None, max_length=1000)
    hotwords: str | None = Field(default=None, max_length=500)
    vad_filter: bool = True
    diarize: bool = False
    num_speakers: int | None = Field(default=None, ge=1, le=32)
    min_speakers: int | None = Field(default=None, ge=1, le=32)
    max_speakers: int | None = Field(default=None, ge=1, le=32)
    detect_variety: bool = True

    @model_validator(mode="after")
    def _check_speakers(self) -> TranscribeOptions:
        if (
            self.min_speakers is not None
            and self.max_speakers is not None
            and self.min_speakers > self.max_speakers
        ):
            raise ValueError("min_speakers must not be greater than max_speakers")
        if self.num_speakers is not None and (
            (self.min_speakers is not None and self.num_speakers < self.min_speakers)
            or (self.max_speakers is not None and self.num_speakers > self.max_speakers)
        ):
            raise ValueError("num_speakers must lie between min_speakers and max_speakers")
        return self
