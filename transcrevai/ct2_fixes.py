"""Repairs to CTranslate2 conversions of Hugging Face Whisper checkpoints.

Dependency-free on purpose: the fine-tuning environment (torch, transformers) imports it
without the service's packages.
"""

from __future__ import annotations

import json
from pathlib import Path


def restore_generation_fields(checkpoint: Path, out: Path) -> None:
    """transformers 5 drops ``lang_to_id`` and ``alignment_heads`` when it loads
    generation_config.json, so ctranslate2 4.x writes no language ids (language detection then
    fails) and guesses alignment heads; both are copied back from the checkpoint's file."""
    gen_file = checkpoint / "generation_config.json"
    if not gen_file.is_file():
        return
    generation = json.loads(gen_file.read_text(encoding="utf-8"))
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    if not config.get("lang_ids") and generation.get("lang_to_id"):
        config["lang_ids"] = sorted(generation["lang_to_id"].values())
    if generation.get("alignment_heads"):
        config["alignment_heads"] = generation["alignment_heads"]
    (out / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
