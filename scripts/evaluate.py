"""Score TranscrevAI on labelled audio: WER/CER and speed, A/B configurations, DER, variety.

    python scripts/evaluate.py --wer ../shared/audio/manifest.csv --report wer.json
    python scripts/evaluate.py --wer MANIFEST --compare base base:beam=1
    python scripts/evaluate.py --der REF_DIR --num-speakers 2
    python scripts/evaluate.py --variety tests/data/variety/test.tsv

Everything runs the one in-process pipeline (``transcrevai.local.transcribe_file``), with one
model load per distinct model shared by every file. A configuration is
``MODEL[:key=value,key=value...]`` (docs/evaluation.md): keys ``beam``, ``prompt``
(``none``, ``@file.txt``, the text, or ``default`` = transcrevai.prompts.DEFAULT_PT_PROMPT
where that module exists),
``hotwords``, ``temp``, ``vad`` and ``words`` (on/off), ``lang``. A comma followed by text
that is not ``key=`` continues the previous value, so prompts may hold commas.
Speed is the real-time factor RTF = processing seconds / audio seconds (lower is faster; the
CLI's "× real time" is its inverse).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transcrevai.errors import TranscrevAIError  # noqa: E402
from transcrevai.evaluation import (  # noqa: E402
    ErrorRates,
    ManifestItem,
    combine,
    der,
    load_manifest,
    normalize_pt,
    read_rttm,
    wer_per_utterance,
)
from transcrevai.evaluation.loaders import AUDIO_SUFFIXES  # noqa: E402
from transcrevai.types import SpeakerTurn, TranscribeOptions, Transcript  # noqa: E402

DER_COLLAR = 0.25
_BOOL = {
    "on": True,
    "true": True,
    "1": True,
    "yes": True,
    "off": False,
    "false": False,
    "0": False,
    "no": False,
}


def _flag(value: str) -> bool:
    if value.lower() not in _BOOL:
        raise ValueError(f"expected on/off, not {value!r}")
    return _BOOL[value.lower()]


def _prompt(value: str) -> str | None:
    if value.lower() in ("", "none"):
        return None
    if value.lower() == "default":
        try:
            from transcrevai.prompts import DEFAULT_PT_PROMPT  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ValueError(
                "prompt=default: transcrevai.prompts is absent (no PT default "
                "prompt is shipped: the ones measured raised WER, see "
                "docs/evaluation.md); pass the prompt text instead"
            ) from exc
        return str(DEFAULT_PT_PROMPT)
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    return value


# key in a configuration spec → (TranscribeOptions field, parser)
KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "beam": ("beam_size", int),
    "prompt": ("initial_prompt", _prompt),
    "hotwords": ("hotwords", lambda v: v or None),
    "temp": ("temperature", float),
    "vad": ("vad_filter", _flag),
    "words": ("word_timestamps", _flag),
    "lang": ("language", lambda v: v or None),
}


@dataclass(frozen=True)
class Config:
    """A model plus the options it decodes with; ``label`` is the spec as the user wrote it."""

    label: str
    model: str
    options: TranscribeOptions


def parse_config(spec: str, base: TranscribeOptions | None = None) -> Config:
    """``MODEL[:key=value,...]`` → Config; unset keys keep ``base`` (default options)."""
    model, _, rest = spec.partition(":")
    if not model:
        raise ValueError(f"configuration {spec!r} names no model")
    pairs: list[list[str]] = []
    for part in rest.split(",") if rest else []:
        key, eq, value = part.partition("=")
        if eq and key.strip() in KEYS:
            pairs.append([key.strip(), value])
        elif pairs:  # a comma inside the previous value
            pairs[-1][1] += "," + part
        else:
            raise ValueError(
                f"configuration {spec!r}: {part!r} is not key=value; keys are {', '.join(KEYS)}"
            )
    updates = {KEYS[k][0]: KEYS[k][1](v.strip()) for k, v in pairs}
    options = (base or TranscribeOptions()).model_copy(update=updates)
    return Config(spec, model, TranscribeOptions.model_validate(options.model_dump()))


class Runner:
    """Transcribes files in-process; one model load per distinct model name for the whole run."""

    def __init__(self) -> None:
        from transcrevai.settings import get_settings

        self.settings = get_settings()
        self._managers: dict[str, Any] = {}
        self._asrs: dict[str, Any] = {}
        self._diar: Any = None

    def manager(self, model: str) -> Any:
        from transcrevai.local import whisper_manager

        if model not in self._managers:
            self._managers[model] = whisper_manager(self.settings, model)
            self._managers[model].preload()  # load time is not counted as decoding time
        return self._managers[model]

    def transcribe(self, path: Path, config: Config) -> tuple[Transcript, float, float]:
        """(transcript, wall seconds, process CPU seconds), both including audio decoding.

        CPU time is reported beside wall time because it is far less disturbed by other
        programs on a shared machine.
        """
        from transcrevai.local import LocalAsr, LocalDiar, transcribe_file

        # one backend per model and one speaker encoder for the whole run (loaded once)
        if config.model not in self._asrs:
            self._asrs[config.model] = LocalAsr(
                self.manager(config.model), batch_size=self.settings.whisper_max_batch_size
            )
        if config.options.diarize and self._diar is None:
            self._diar = LocalDiar()
        wall, cpu = time.perf_counter(), time.process_time()
        transcript = transcribe_file(
            path, config.options, asr=self._asrs[config.model], diar=self._diar
        )
        return transcript, time.perf_counter() - wall, time.process_time() - cpu


def score(reference: str, hypothesis: str) -> dict[str, Any]:
    """WER/CER counts plus the normalised texts they were computed on (for hand checks)."""
    rates = wer_per_utterance(reference, hypothesis)[0]
    return {
        "ref_norm": normalize_pt(reference),
        "hyp_norm": normalize_pt(hypothesis),
        **asdict(rates),
    }


def timing(seconds: float, cpu: float, duration: float) -> dict[str, Any]:
    """Wall and CPU seconds and the real-time factor (seconds per second of audio)."""
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "duration": duration,
        "rtf": round(seconds / duration, 4) if duration else None,
    }


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Corpus WER/CER (total errors / total reference units) and overall speed."""
    fields = ErrorRates.__dataclass_fields__
    rates = combine(ErrorRates(**{k: r[k] for k in fields}) for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    audio = sum(r["duration"] for r in rows)
    return {
        **asdict(rates),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in rows), 3),
        "audio_seconds": round(audio, 3),
        "rtf": round(seconds / audio, 4) if audio else None,
    }


def speed_ratios(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float | None]:
    """B's time over A's, in wall and in CPU seconds (< 1: B is faster)."""

    def ratio(key: str) -> float | None:
        return round(b[key] / a[key], 4) if a[key] else None

    return {"wall": ratio("seconds"), "cpu": ratio("cpu_seconds")}


def run_wer(
    items: Sequence[ManifestItem], configs: Sequence[Config], runner: Runner
) -> dict[str, Any]:
    """Each item through every configuration in turn (A then B), scored and timed."""
    out_items: list[dict[str, Any]] = []
    names = _short_labels(configs)
    print(_row(["file", "dur s"] + [f"{n} {m}" for n in names for m in ("WER", "CER", "RTF")]))
    for item in items:
        entry: dict[str, Any] = {
            "audio": str(item.audio_path),
            "reference": item.reference,
            "results": {},
        }
        cells: list[str] = []
        for config in configs:
            transcript, seconds, cpu = runner.transcribe(item.audio_path, config)
            entry["duration"] = transcript.duration
            res = {
                "hypothesis": transcript.text,
                **score(item.reference, transcript.text),
                **timing(seconds, cpu, transcript.duration),
            }
            entry["results"][config.label] = res
            cells += [f"{res['wer']:.3f}", f"{res['cer']:.3f}", f"{res['rtf'] or 0:.3f}"]
        out_items.append(entry)
        print(_row([item.audio_path.name, f"{entry['duration']:.1f}"] + cells), flush=True)
    aggregates = {c.label: aggregate([i["results"][c.label] for i in out_items]) for c in configs}
    report: dict[str, Any] = {
        "mode": "compare" if len(configs) > 1 else "wer",
        "configs": [
            {"label": c.label, "model": c.model, "options": c.options.model_dump()} for c in configs
        ],
        "items": out_items,
        "aggregate": aggregates,
    }
    print()
    for name, c in zip(names, configs):
        a = aggregates[c.label]
        print(
            f"{name} = {c.label}: WER {a['wer']:.2%}  CER {a['cer']:.2%}  "
            f"({_errors(a)} errors / "
            f"{a['ref_words']} words, {a['utterances']} files)  RTF {a['rtf']:.3f}"
        )
    if len(configs) == 2:
        a, b = (aggregates[c.label] for c in configs)
        report["speed_ratio"] = ratios = speed_ratios(a, b)
        print(
            f"speed ratio B/A: wall {ratios['wall']}, CPU {ratios['cpu']} (time of B / time "
            f"of A)  WER B - A: {(b['wer'] - a['wer']) * 100:+.2f} points"
        )
    return report


def _errors(a: dict[str, Any]) -> int:
    return int(a["substitutions"] + a["deletions"] + a["insertions"])


def _short_labels(configs: Sequence[Config]) -> list[str]:
    return ["A", "B"] if len(configs) == 2 else [c.label for c in configs]


def _row(cells: Sequence[str]) -> str:
    first, rest = cells[0], cells[1:]
    return f"{first[:34]:<34} " + " ".join(f"{c:>9}" for c in rest)


# -- diarization ---------------------------------------------------------------------------
def der_pairs(ref_dir: Path) -> list[tuple[Path, Path]]:
    """(audio, rttm) pairs with the same stem in ``ref_dir`` (audio without an RTTM is skipped)."""
    pairs = []
    for audio in sorted(p for p in ref_dir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        if audio.with_suffix(".rttm").is_file():
            pairs.append((audio, audio.with_suffix(".rttm")))
    if not pairs:
        raise SystemExit(f"{ref_dir}: no audio file with a same-stem .rttm")
    return pairs


def hypothesis_turns(transcript: Transcript) -> list[SpeakerTurn]:
    """The transcript's speaker turns, or its speaker-labelled segments when it has none."""
    if transcript.turns:
        return list(transcript.turns)
    return [
        SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker)
        for s in transcript.segments
        if s.speaker
    ]


def run_der(pairs: Sequence[tuple[Path, Path]], config: Config, runner: Runner) -> dict[str, Any]:
    options = config.options.model_copy(update={"diarize": True})
    diar_config = Config(config.label, config.model, options)
    rows = []
    print(_row(["file", "DER", "missed s", "false al s", "confus s", "total s", "spk ref/hyp"]))
    for audio, rttm in pairs:
        reference = [t for turns in read_rttm(rttm).values() for t in turns]
        transcript, seconds, _ = runner.transcribe(audio, diar_config)
        hyp = hypothesis_turns(transcript)
        res = der(reference, hyp, collar=DER_COLLAR)
        row = {
            "audio": str(audio),
            "rttm": str(rttm),
            **asdict(res),
            "seconds": round(seconds, 3),
            "ref_speakers": len({t.speaker for t in reference}),
            "hyp_speakers": len({t.speaker for t in hyp}),
            "hypothesis": [t.model_dump() for t in hyp],
        }
        rows.append(row)
        print(
            _row(
                [
                    audio.name,
                    f"{res.der:.3f}",
                    f"{res.missed:.2f}",
                    f"{res.false_alarm:.2f}",
                    f"{res.confusion:.2f}",
                    f"{res.total:.2f}",
                    f"{row['ref_speakers']}/{row['hyp_speakers']}",
                ]
            ),
            flush=True,
        )
    total = sum(r["total"] for r in rows)
    errors = sum(r["missed"] + r["false_alarm"] + r["confusion"] for r in rows)
    overall = errors / total if total else 0.0
    print(
        f"\ntotal DER {overall:.2%} over {total:.1f} s of reference speech "
        f"({len(rows)} files, collar {DER_COLLAR} s)"
    )
    return {
        "mode": "der",
        "collar": DER_COLLAR,
        "config": config.label,
        "options": options.model_dump(),
        "items": rows,
        "aggregate": {"der": overall, "total": total, "errors": errors},
    }


# -- variety -------------------------------------------------------------------------------
def variety_items(path: Path) -> list[tuple[str, str]]:
    """(label, text) pairs: a ``label<TAB>text`` file, or any manifest with a variety column."""
    from transcrevai.variety import load_tsv

    first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0].strip().split("\t")
    if first[:2] == ["label", "text"]:
        return load_tsv(path)
    items = load_manifest(path, check_files=False)
    pairs = [(i.variety, i.reference) for i in items if i.variety and i.reference]
    if not pairs:
        raise SystemExit(f"{path}: no row has both a reference text and a variety")
    return pairs


def run_variety(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    from transcrevai.variety import LABELS, evaluate_variety

    accuracy, confusion = evaluate_variety(pairs)
    print(f"variety accuracy {accuracy:.2%} on {len(pairs)} texts\n")
    print(_row(["gold \\ predicted", *LABELS]))
    for gold in LABELS:
        print(_row([gold, *(str(confusion[gold][p]) for p in LABELS)]))
    return {"mode": "variety", "accuracy": accuracy, "n": len(pairs), "confusion": confusion}


# -- command line --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--wer", metavar="MANIFEST", type=Path, help="manifest or folder load_manifest understands"
    )
    mode.add_argument(
        "--der",
        metavar="REF_DIR",
        type=Path,
        help="folder of audio files with same-stem .rttm references",
    )
    mode.add_argument(
        "--variety",
        metavar="MANIFEST",
        type=Path,
        help="label<TAB>text file or a manifest with a variety column",
    )
    ap.add_argument(
        "--compare",
        nargs=2,
        metavar=("CONFIG_A", "CONFIG_B"),
        help="with --wer: two configurations side by side (each file A then B)",
    )
    ap.add_argument("--model", default="base", help="model or configuration (default base)")
    ap.add_argument("--beam-size", type=int, help="beam size (default 5)")
    ap.add_argument("--prompt", help="initial prompt ('default' = the documented PT prompt)")
    ap.add_argument("--num-speakers", type=int, help="with --der: known number of speakers")
    ap.add_argument("--limit", type=int, help="only the first N files/texts")
    ap.add_argument("--report", type=Path, help="write the full JSON report here")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (ValueError, TranscrevAIError) as exc:  # bad spec, manifest, options: say so plainly
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    limit = slice(None, args.limit)
    base = TranscribeOptions()
    if args.beam_size is not None:
        base = base.model_copy(update={"beam_size": args.beam_size})
    if args.prompt is not None:
        base = base.model_copy(update={"initial_prompt": _prompt(args.prompt)})
    if args.num_speakers is not None:
        base = base.model_copy(update={"num_speakers": args.num_speakers})
    if args.compare and not args.wer:
        raise SystemExit("--compare needs --wer MANIFEST")
    if args.variety:
        report = run_variety(variety_items(args.variety)[limit])
    elif args.der:
        report = run_der(der_pairs(args.der)[limit], parse_config(args.model, base), Runner())
    else:
        specs = args.compare or [args.model]
        configs = [parse_config(s, base) for s in specs]
        items = load_manifest(args.wer)[limit]
        report = run_wer(items, configs, Runner())
        report["manifest"] = str(args.wer)
    if args.report:
        args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
