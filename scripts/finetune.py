"""Fine-tune a Whisper checkpoint on a manifest (Hugging Face Seq2SeqTrainer, optional LoRA).

    pip install -e '.[finetune]'      # torch, transformers, peft: never in the service image
    python scripts/finetune.py --model openai/whisper-small --manifest corpus/manifest.csv \
        --output runs/small-pt --epochs 3 --lr 1e-5 --eval-split 0.1 --export-ct2 runs/small-pt-ct2
    python scripts/import_model.py runs/small-pt-ct2      # then bentoml build packs it

``--model`` is a Hugging Face Whisper directory or hub id, or ``random-tiny``: a tiny randomly
initialised Whisper (d_model 64, 2+2 layers) with the real multilingual tokenizer read offline
from ``--tokenizer DIR`` (any folder holding Whisper's ``tokenizer.json``, such as the
embedded base model's). It exists to prove the whole path (train → save → CT2 → import →
faster-whisper) without a hub, in seconds; its transcripts are meaningless.
Labels are ``<|startoftranscript|><|LANG|><|transcribe|><|notimestamps|> text <|endoftext|>``
with the reference text as written in the manifest (its case and punctuation are learnt).
``--lora`` trains low-rank adapters on the attention projections and merges them before
saving, so the output is a plain Whisper checkpoint that CTranslate2 converts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    import torch
    from transformers import (
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise SystemExit(
        f"fine-tuning needs torch and transformers ({exc}): pip install -e '.[finetune]'"
    ) from exc

SR = 16000
MAX_LABEL_TOKENS = 448
RANDOM_TINY = "random-tiny"


def load_tokenizer(folder: Path, language: str) -> WhisperTokenizerFast:
    """Whisper's fast tokenizer from a bare ``tokenizer.json`` (no hub, no vocab/merges files)."""
    return WhisperTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"),
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        language=language,
        task="transcribe",
        predict_timestamps=False,
    )


def random_tiny(tokenizer_dir: Path, language: str) -> tuple[Any, WhisperProcessor]:
    """A small random Whisper sharing the multilingual vocabulary and special-token ids."""
    tokenizer = load_tokenizer(tokenizer_dir, language)
    ids = tokenizer.convert_tokens_to_ids
    config = WhisperConfig(
        vocab_size=51865,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=MAX_LABEL_TOKENS,
        pad_token_id=ids("<|endoftext|>"),
        bos_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"),
        decoder_start_token_id=ids("<|startoftranscript|>"),
        suppress_tokens=[],
        begin_suppress_tokens=[220, ids("<|endoftext|>")],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    # What hub checkpoints carry in generation_config.json; CTranslate2 reads the language ids
    # from it (they sit between <|startoftranscript|> and <|translate|>).
    gen = model.generation_config
    sot, translate = ids("<|startoftranscript|>"), ids("<|translate|>")
    gen.lang_to_id = {tokenizer.convert_ids_to_tokens(i): i for i in range(sot + 1, translate)}
    gen.task_to_id = {"transcribe": ids("<|transcribe|>"), "translate": translate}
    gen.is_multilingual = True
    gen.no_timestamps_token_id = ids("<|notimestamps|>")
    gen.suppress_tokens, gen.begin_suppress_tokens = [], [220, ids("<|endoftext|>")]
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(), tokenizer=tokenizer)
    return model, processor


def load_model(name: str, tokenizer_dir: Path | None, language: str) -> tuple[Any, Any]:
    if name == RANDOM_TINY:
        if tokenizer_dir is None:
            raise SystemExit("--model random-tiny needs --tokenizer DIR (with tokenizer.json)")
        return random_tiny(tokenizer_dir, language)
    processor = WhisperProcessor.from_pretrained(name, language=language, task="transcribe")
    model = WhisperForConditionalGeneration.from_pretrained(name)
    return model, processor


class SpeechDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """Log-mel features and label ids, computed once up front (small corpora, simple code)."""

    def __init__(self, items: list[Any], processor: Any) -> None:
        import librosa

        self.rows = []
        for item in items:
            audio, _ = librosa.load(str(item.audio_path), sr=SR, mono=True)
            features = processor.feature_extractor(
                audio, sampling_rate=SR, return_tensors="pt"
            ).input_features[0]
            labels = processor.tokenizer(item.reference).input_ids[:MAX_LABEL_TOKENS]
            self.rows.append({"input_features": features, "labels": labels})

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]


@dataclass
class Collator:
    """Stacks features, pads labels with -100 (ignored by the loss), drops a leading SOT."""

    decoder_start_token_id: int

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        features = torch.stack([b["input_features"] for b in batch])
        width = max(len(b["labels"]) for b in batch)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        for i, b in enumerate(batch):
            labels[i, : len(b["labels"])] = torch.tensor(b["labels"])
        if bool((labels[:, 0] == self.decoder_start_token_id).all()):
            labels = labels[:, 1:]  # the model prepends it when shifting labels right
        return {"input_features": features, "labels": labels}


def split(items: list[Any], fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """Shuffled (train, eval) with ``fraction`` of the items (at least one) held out."""
    if fraction <= 0 or len(items) < 2:
        return list(items), []
    order = list(items)
    random.Random(seed).shuffle(order)
    n_eval = max(1, math.floor(len(order) * fraction))
    return order[n_eval:], order[:n_eval]


def add_lora(model: Any, rank: int) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "out_proj"],
    )
    model = get_peft_model(model, config)
    model.print_trainable_parameters()
    return model


def export_ct2(checkpoint: Path, out: Path, quantization: str) -> None:
    """CTranslate2 model (with tokenizer/preprocessor files) that faster-whisper loads.

    transformers 5 drops ``lang_to_id`` and ``alignment_heads`` when it loads
    generation_config.json, so the converter (ctranslate2 4.x) writes no language ids (language
    detection then fails) and guesses alignment heads; both are restored from the file itself.
    """
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(
        str(checkpoint),
        load_as_float16=False,
        copy_files=["tokenizer.json", "preprocessor_config.json"],
    ).convert(str(out), quantization=quantization, force=True)
    from transcrevai.ct2_fixes import restore_generation_fields

    restore_generation_fields(checkpoint, out)


def train(args: argparse.Namespace) -> dict[str, Any]:
    from transcrevai.evaluation.loaders import load_manifest

    model, processor = load_model(args.model, args.tokenizer, args.language)
    if args.freeze_encoder:
        model.model.encoder.requires_grad_(False)
    if args.lora:
        model = add_lora(model, args.lora_rank)
    items = [i for i in load_manifest(args.manifest) if i.reference]
    train_items, eval_items = split(items, args.eval_split, args.seed)
    train_set = SpeechDataset(train_items, processor)
    eval_set = SpeechDataset(eval_items, processor) if eval_items else None
    cuda = torch.cuda.is_available()
    training_args = Seq2SeqTrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="finetune-"),  # nothing is saved there (no checkpoints)
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps or -1,
        warmup_steps=args.warmup_steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        eval_strategy="no",
        seed=args.seed,
        fp16=cuda,
        use_cpu=not cuda,
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=training_args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=Collator(model.config.decoder_start_token_id),
    )
    before = trainer.evaluate()["eval_loss"] if eval_set else None
    trainer.train()
    after = trainer.evaluate()["eval_loss"] if eval_set else None
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    if args.lora:
        model = model.merge_and_unload()
    args.output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.output), safe_serialization=True)
    processor.save_pretrained(str(args.output))
    # transformers 5 keeps the feature extractor inside processor_config.json; converters and
    # faster-whisper look for preprocessor_config.json
    processor.feature_extractor.save_pretrained(str(args.output))
    log = {
        "model": args.model,
        "manifest": str(args.manifest),
        "train_items": len(train_set),
        "eval_items": len(eval_items),
        "steps": trainer.state.global_step,
        "losses": losses,
        "eval_loss_before": before,
        "eval_loss_after": after,
        "lora": args.lora,
    }
    (args.output / "training_log.json").write_text(json.dumps(log, indent=1), encoding="utf-8")
    return log


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", required=True, help="HF Whisper dir or hub id, or random-tiny")
    ap.add_argument("--tokenizer", type=Path, help="folder with tokenizer.json (random-tiny)")
    ap.add_argument("--manifest", type=Path, required=True, help="any layout load_manifest reads")
    ap.add_argument("--output", type=Path, required=True, help="where the HF checkpoint goes")
    ap.add_argument("--language", default="portuguese", help="Whisper language of the labels")
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--max-steps", type=int, help="stop after this many steps (overrides epochs)")
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--warmup-steps", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--eval-split", type=float, default=0.1, help="held-out fraction (0: none)")
    ap.add_argument("--lora", action="store_true", help="train LoRA adapters, merged at the end")
    ap.add_argument("--lora-rank", type=int, default=8)
    ap.add_argument("--freeze-encoder", action="store_true", help="train the decoder only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--export-ct2", type=Path, help="also write a CTranslate2 model here")
    ap.add_argument(
        "--quantization",
        default="int8_float16",
        help="CT2 weight type for --export-ct2 (int8_float16 runs as int8 on CPU)",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = train(args)
    print(f"trained {log['steps']} steps on {log['train_items']} clips")
    print("loss per step: " + " ".join(f"{x:.3f}" for x in log["losses"]))
    if log["eval_loss_before"] is not None:
        print(
            f"held-out loss: {log['eval_loss_before']:.3f} -> {log['eval_loss_after']:.3f} "
            f"({log['eval_items']} clips)"
        )
    print(f"checkpoint: {args.output}")
    if args.export_ct2:
        export_ct2(args.output, args.export_ct2, args.quantization)
        print(f"CTranslate2 model: {args.export_ct2}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
