"""`transcrevai` command line: transcribe files or whole folders, in-process or via a server.

Both commands drive the one pipeline (``transcrevai.pipeline`` through ``cli_local``) or the
service's job API (``cli_client``); this module only parses options and reports errors as one
line with a documented exit code (docs/cli.md).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from .cli_batch import EXIT_INTERRUPTED, EXIT_SETUP, EXIT_USAGE, RunConfig, Runner
from .cli_files import MEDIA_EXTENSIONS, InputError, discover, plan_items, read_manifest
from .errors import TranscrevAIError
from .types import TranscribeOptions


class UsageProblem(Exception):
    """A bad path, option or combination of options: one line, exit 2."""


def _fail(message: str, code: int) -> NoReturn:
    print(f"transcrevai: error: {message}", file=sys.stderr)
    sys.exit(code)


def _sigterm_as_interrupt() -> None:
    """SIGTERM outside the event loop behaves like Ctrl-C (clean exit 130, no traceback)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class _App(typer.Typer):
    """Typer app whose errors are one line on stderr and whose exit codes are documented."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _sigterm_as_interrupt()
        try:
            rv = super().__call__(*args, **kwargs)
        except typer.TyperException as exc:  # typer's own parse errors (vendored click)
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.exit(EXIT_USAGE)  # the help text has been printed
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(exc.format_message().rstrip(".") + hint, exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        except (UsageProblem, InputError) as exc:
            _fail(str(exc), EXIT_USAGE)
        except TranscrevAIError as exc:
            _fail(exc.message, EXIT_USAGE if exc.status == 400 else EXIT_SETUP)
        except Exception as exc:
            if os.environ.get("TRANSCREVAI_DEBUG"):
                raise
            _fail(f"internal error: {exc.__class__.__name__}: {exc}", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = _App(
    name="transcrevai",
    help="Portuguese transcription with speaker diarization (in-process or via a server).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# -- shared options -------------------------------------------------------------------------
Diarize = Annotated[bool, typer.Option("--diarize", help="Label who speaks when.")]
Speakers = Annotated[
    int | None, typer.Option("--speakers", help="Exact number of speakers (implies --diarize).")
]
MinSpeakers = Annotated[
    int | None, typer.Option("--min-speakers", help="At least this many speakers.")
]
MaxSpeakers = Annotated[
    int | None, typer.Option("--max-speakers", help="At most this many speakers.")
]
Language = Annotated[
    str, typer.Option("--language", "-l", help="Spoken language (ISO 639-1) or 'auto'.")
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model", "-m", help="In-process model: 'default', 'base', 'tiny.en', a CT2 dir…"
    ),
]
Formats = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format, repeatable or comma-separated: json txt srt vtt "
        "tsv rttm docx textgrid eaf.",
    ),
]
BeamSize = Annotated[int, typer.Option("--beam-size", help="Beam width (1–10).")]
Prompt = Annotated[
    str | None, typer.Option("--prompt", help="Initial prompt: names, jargon, spelling hints.")
]
Server = Annotated[
    str | None, typer.Option("--server", help="Send files to a running service at this URL.")
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="TRANSCREVAI_API_KEY", help="API key for --server."),
]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", min=1, max=64, help="Files in flight (default 2, 4 with --server)."
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or per-file lines.")]


def build_options(
    language: str,
    diarize: bool,
    speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    beam_size: int,
    prompt: str | None,
) -> TranscribeOptions:
    """Flags → validated options; every problem is a usage error (exit 2)."""
    from pydantic import ValidationError

    from .pipeline import validate_language

    lang = validate_language(language)  # None for 'auto'
    try:
        return TranscribeOptions(
            language=lang,
            diarize=diarize or any(v is not None for v in (speakers, min_speakers, max_speakers)),
            num_speakers=speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            beam_size=beam_size,
            initial_prompt=prompt,
        )
    except ValidationError as exc:
        names = {"num_speakers": "--speakers", "initial_prompt": "--prompt"}
        parts = []
        for e in exc.errors(include_url=False):
            field = str(e["loc"][0]) if e["loc"] else ""
            flag = names.get(field, "--" + field.replace("_", "-")) if field else ""
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{flag}: {msg}" if flag else msg)
        raise UsageProblem("; ".join(parts)) from exc


def parse_formats(values: list[str] | None, default: str) -> list[str]:
    from .formats import FORMATS

    out: list[str] = []
    for value in values or [default]:
        for fmt in value.split(","):
            fmt = fmt.strip().lower().lstrip(".")
            if fmt not in FORMATS:
                raise UsageProblem(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
            if fmt not in out:
                out.append(fmt)
    return out


def make_engine(server: str | None, api_key: str | None, model: str | None) -> Any:
    """A factory, so nothing heavy is loaded before every option has been checked."""
    if server:
        if model:
            raise UsageProblem("--model chooses the in-process model; the server has its own")
        if not server.startswith(("http://", "https://")):
            raise UsageProblem(f"--server must be an http(s) URL, not '{server}'")
        from .cli_client import ServerEngine

        return lambda: ServerEngine(server, api_key)
    from .cli_local import LocalEngine

    return lambda: LocalEngine(model)


@app.command()
def transcribe(
    files: Annotated[
        list[Path],
        typer.Argument(help="Audio or video files.", metavar="FILE...", show_default=False),
    ],
    diarize: Diarize = False,
    speakers: Speakers = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    language: Language = "pt",
    model: Model = None,
    fmt: Formats = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Folder for outputs (default: next to input)."),
    ] = None,
    beam_size: BeamSize = 5,
    prompt: Prompt = None,
    server: Server = None,
    api_key: ApiKey = None,
    quiet: Quiet = False,
) -> int:
    """Transcribe FILE… and write <stem>.<format> next to each file (or into -o DIR).

    Outputs are overwritten; default format txt. Exit 0 when every file succeeded, 1 when
    any failed."""
    for f in files:
        if not f.is_file():
            raise UsageProblem(f"no such file: {f}" if not f.exists() else f"not a file: {f}")
        if not os.access(f, os.R_OK):
            raise UsageProblem(f"cannot read {f}: permission denied")
    options = build_options(
        language, diarize, speakers, min_speakers, max_speakers, beam_size, prompt
    )
    formats = parse_formats(fmt, "txt")
    factory = make_engine(server, api_key, model)
    items = []
    for f in files:
        items += plan_items([f], f.parent, output_dir or f.parent, mirror=False)
    bases = [i.out_base for i in items]
    if len(set(bases)) != len(bases):
        raise UsageProblem("two inputs share a name and would overwrite each other's outputs")
    cfg = RunConfig(options, formats, jobs=1, quiet=quiet)
    return Runner(factory, cfg).run(items)


@app.command()
def batch(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder (searched recursively) or a CSV/TSV manifest.", metavar="DIR_OR_MANIFEST"
        ),
    ],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Output folder.")],
    jobs: Jobs = None,
    server: Server = None,
    api_key: ApiKey = None,
    fmt: Formats = None,
    diarize: Diarize = False,
    speakers: Speakers = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    language: Language = "pt",
    model: Model = None,
    beam_size: BeamSize = 5,
    prompt: Prompt = None,
    force: Annotated[bool, typer.Option("--force", help="Redo files already complete.")] = False,
    quiet: Quiet = False,
) -> int:
    """Transcribe every audio/video file of a folder tree or manifest into OUT, resumably.

    The input tree is mirrored under OUT; complete files are skipped on a re-run; failures go
    to OUT/failures.tsv and OUT/summary.json. Default format json."""
    if not source.exists():
        raise UsageProblem(f"no such file or folder: {source}")
    if source.is_dir():
        root, paths = source, discover(source, exclude=output_dir)
        if not paths:
            exts = " ".join(sorted(MEDIA_EXTENSIONS))
            raise UsageProblem(f"no audio or video files under {source} (looked for: {exts})")
    elif source.suffix.lower().lstrip(".") in MEDIA_EXTENSIONS:
        root, paths = source.parent, [source]
    else:
        root, paths = source.parent, read_manifest(source)
    options = build_options(
        language, diarize, speakers, min_speakers, max_speakers, beam_size, prompt
    )
    formats = parse_formats(fmt, "json")
    factory = make_engine(server, api_key, model)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot create output folder {output_dir}: {exc.strerror}") from exc
    items = plan_items(paths, root, output_dir, mirror=True)
    if force:
        for item in items:
            if item.marker is not None:
                item.marker.unlink(missing_ok=True)
    n_jobs = jobs or (4 if server else 2)
    cfg = RunConfig(options, formats, n_jobs, resume=True, report_dir=output_dir, quiet=quiet)
    return Runner(factory, cfg).run(items)


if __name__ == "__main__":
    app()
