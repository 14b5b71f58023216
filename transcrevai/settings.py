"""Every setting, read only from the environment through one pydantic settings object.

Names are the environment variable names (case-insensitive). docs/deployment.md lists them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # --- models -----------------------------------------------------------------------
    whisper_model: str = Field(
        default="default",
        description="Model to serve: a local CTranslate2 dir, a BentoML model tag, 'default' "
        "(embedded base multilingual, else tiny.en), a package name, or a hub id/size.",
    )
    whisper_device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_compute_type: str = Field(
        default="auto", description="auto → float16 on GPU, int8 on CPU (CTranslate2 types)."
    )
    whisper_cpu_threads: int = Field(
        default=0, ge=0, description="0 = one per available core (at most 8)."
    )
    model_cache_dir: Path = Field(
        default=Path.home() / ".cache" / "transcrevai",
        description="Where joined/converted model files are cached.",
    )
    allow_model_download: bool = Field(
        default=True, description="Permit a hub download as the last resolution step."
    )

    preload_models: bool = Field(
        default=True,
        description="Load models when a runner starts, so a missing or corrupt model fails "
        "at startup with a clear message instead of on the first request.",
    )

    # --- scale-to-zero ----------------------------------------------------------------
    auto_unload_models: bool = Field(
        default=False, description="Unload a runner's model after MODEL_IDLE_TIMEOUT idle seconds."
    )
    model_idle_timeout: float = Field(default=300.0, gt=0)

    # --- batching -----------------------------------------------------------------------
    whisper_max_batch_size: int = Field(
        default=8, ge=1, le=64, description="Adaptive batching cap; 1 disables batching."
    )
    whisper_max_latency_ms: int = Field(
        default=3_600_000,
        ge=100,
        description="BentoML answers 503 to a call it expects to wait longer than this; "
        "long queues are normal for transcription, so the default is an hour.",
    )
    diarization_max_batch_size: int = Field(default=256, ge=2)
    diarization_max_latency_ms: int = Field(default=3_600_000, ge=100)

    runner_max_in_flight: int = Field(
        default=48,
        ge=1,
        description="Calls from the API service to the runners in flight at once (the rest "
        "wait in the service); keeps BentoML's connection pool and the probes healthy.",
    )

    # --- limits -------------------------------------------------------------------------
    max_upload_mb: float = Field(default=500.0, gt=0)
    max_duration_s: float = Field(default=4 * 3600.0, gt=0)

    # --- decoding guards ----------------------------------------------------------------
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4

    # --- service --------------------------------------------------------------------------
    transcrevai_api_keys: str = Field(
        default="", description="Comma-separated API keys; empty disables auth."
    )
    jobs_dir: Path = Field(
        default=Path.home() / ".cache" / "transcrevai" / "jobs",
        description="Where async jobs (status, results, speaker names) are persisted.",
    )
    job_retention_s: float = Field(default=7 * 24 * 3600.0, gt=0)

    def api_keys(self) -> set[str]:
        return {k.strip() for k in self.transcrevai_api_keys.split(",") if k.strip()}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests start fresh processes to change them."""
    return Settings()
