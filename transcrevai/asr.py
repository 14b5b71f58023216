"""Batched Whisper decoding of speech chunks that may come from many different requests.

Chunks are grouped by their decoding options; each group is one CTranslate2 batch (encoder +
beam search + word alignment). Results are chunk-local; the pipeline maps them back to the
recording's time. Hallucination guards: VAD upstream, a no-speech check, and a temperature
fallback (then removal) for chunks whose text is a repetition loop or very unlikely.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_compression_ratio

logger = logging.getLogger(__name__)

FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6, 0.8, 1.0)
SAMPLE_RATE = 16000
# Audio left after the last decoded word that is worth a second pass (see _continue_truncated).
MIN_TAIL_S = 1.0
MAX_CONTINUATIONS = 3
# Whisper's segment times are this loose: a segment this close to VAD speech still counts
SPEECH_SLACK_S = 0.2


@dataclass
class ChunkJob:
    """One ≤30 s chunk and how to decode it (picklable: it crosses service boundaries)."""

    audio: np.ndarray
    language: str | None = "pt"
    task: str = "transcribe"
    beam_size: int = 5
    word_timestamps: bool = True
    initial_prompt: str | None = None
    hotwords: str | None = None
    temperature: float = 0.0
    # chunk-local (start, end) seconds of VAD speech; None = treat all of the audio as speech
    speech: list[tuple[float, float]] | None = None
    # the rest of a chunk after Whisper closed it early (see WhisperEngine._continue_truncated)
    tail: bool = False

    def key(self) -> tuple[Any, ...]:
        return (
            self.language or "",
            self.task,
            self.beam_size,
            self.word_timestamps,
            self.initial_prompt or "",
            self.hotwords or "",
            self.temperature,
        )


@dataclass
class ChunkResult:
    segments: list[dict[str, Any]] = field(default_factory=list)
    language: str = ""
    fallback: bool = False
    dropped_segments: int = 0


@dataclass
class Guards:
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4


def pick_compute(device: str, compute_type: str) -> tuple[str, str]:
    """auto → CUDA + float16 when a GPU is visible, else CPU + int8."""
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class WhisperEngine:
    def __init__(
        self,
        model_path: Path,
        *,
        device: str = "auto",
        compute_type: str = "auto",
        cpu_threads: int = 0,
        guards: Guards | None = None,
    ) -> None:
        self.device, self.compute_type = pick_compute(device, compute_type)
        if cpu_threads <= 0:
            # CTranslate2 defaults to 4 threads, which oversubscribes small machines
            cpu_threads = max(1, min(8, len(os.sched_getaffinity(0))))
        self.model = WhisperModel(
            str(model_path),
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=cpu_threads,
            local_files_only=True,
        )
        self.pipeline = BatchedInferencePipeline(self.model)
        self.guards = guards or Guards()

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        if not self.multilingual:
            return "en", 1.0
        lang, prob, _ = self.model.detect_language(audio=audio[: 30 * 16000])
        return lang, float(prob)

    def transcribe_batch(self, jobs: list[ChunkJob]) -> list[ChunkResult]:
        results = self._transcribe_once(jobs)
        self._continue_truncated(jobs, results)
        for job, res in zip(jobs, results):
            _drop_outside_speech(job, res)
        return results

    # -- internals -------------------------------------------------------------------------
    def _transcribe_once(self, jobs: list[ChunkJob]) -> list[ChunkResult]:
        results: list[ChunkResult | None] = [None] * len(jobs)
        order = sorted(range(len(jobs)), key=lambda i: jobs[i].key())
        for _, group in groupby(order, key=lambda i: jobs[i].key()):
            idx = list(group)
            for i, res in zip(idx, self._decode_group([jobs[i] for i in idx])):
                results[i] = res
        return [r if r is not None else ChunkResult() for r in results]

    def _continue_truncated(
        self, jobs: list[ChunkJob], results: list[ChunkResult], depth: int = 0
    ) -> None:
        """Decode the rest of chunks whose text stops well before their audio does.

        Whisper may close a window early with a timestamp pair (e.g. ``<9.24><9.24>`` in a
        14 s chunk): sequential decoding then seeks to 9.24 s and goes on, but one batched
        pass has no seek, so the rest of the chunk was silently lost. The remainders are
        decoded as new chunks (batched together) and appended, shifted to chunk time. Only
        speech counts: a tail of silence (the pause kept at a chunk's edge) is never re-decoded,
        as Whisper would make up words there. Like sequential decoding's
        ``condition_on_previous_text``, the remainder is decoded with the text before it as
        its prompt: without it Whisper guesses the first words of a sentence cut mid-way
        ("foi criada" came out "Um senhor criado" on fleurs-pt-005).
        """
        if depth >= MAX_CONTINUATIONS:
            return
        tails = []
        for i, (job, res) in enumerate(zip(jobs, results)):
            if res.segments and not res.fallback:  # the fallback's own transcribe seeks
                end = _decoded_end(res)
                if _speech_end(job) - end > MIN_TAIL_S:
                    tails.append((i, end))
        if not tails:
            return
        rest = [
            replace(
                jobs[i],
                audio=jobs[i].audio[int(end * SAMPLE_RATE) :],
                speech=_shift_speech(jobs[i].speech, end),
                initial_prompt=_context(jobs[i].initial_prompt, results[i]),
                tail=True,
            )
            for i, end in tails
        ]
        more = self._transcribe_once(rest)
        self._continue_truncated(rest, more, depth + 1)
        for (i, end), extra in zip(tails, more):
            results[i].segments.extend(_shifted(s, end) for s in extra.segments)
            results[i].dropped_segments += extra.dropped_segments

    def _options(self, job: ChunkJob, tokenizer: Tokenizer) -> TranscriptionOptions:
        return TranscriptionOptions(
            beam_size=job.beam_size,
            best_of=5,
            patience=1.0,
            length_penalty=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            log_prob_threshold=self.guards.log_prob_threshold,
            no_speech_threshold=self.guards.no_speech_threshold,
            compression_ratio_threshold=self.guards.compression_ratio_threshold,
            condition_on_previous_text=False,
            prompt_reset_on_temperature=0.5,
            temperatures=[job.temperature],
            # sequential faster-whisper and openai-whisper encode the prompt after a space, as
            # previous text is; the batched path encodes it bare (other tokens, other output)
            initial_prompt=" " + job.initial_prompt.strip() if job.initial_prompt else None,
            prefix=None,
            suppress_blank=True,
            suppress_tokens=[-1],
            without_timestamps=False,
            max_initial_timestamp=1.0,
            word_timestamps=job.word_timestamps,
            prepend_punctuations="\"'“¿([{-",
            append_punctuations="\"'.。,，!！?？:：”)]}、",
            multilingual=False,
            max_new_tokens=None,
            clip_timestamps="0",
            hallucination_silence_threshold=None,
            hotwords=job.hotwords,
        )

    def _decode_group(self, jobs: list[ChunkJob]) -> list[ChunkResult]:
        first = jobs[0]
        language = first.language if self.multilingual else "en"
        if language is None:  # the pipeline detects once per request; this is a safety net
            language, _ = self.detect_language(first.audio)
        tokenizer = Tokenizer(
            self.model.hf_tokenizer, self.multilingual, task=first.task, language=language
        )
        options = self._options(first, tokenizer)
        if options.suppress_tokens:
            from faster_whisper.transcribe import get_suppressed_tokens

            options.suppress_tokens = get_suppressed_tokens(tokenizer, options.suppress_tokens)
        features = np.stack(
            [pad_or_trim(self.model.feature_extractor(j.audio)[..., :-1]) for j in jobs]
        )
        meta = [{"offset": 0.0, "duration": j.audio.size / 16000, "segments": []} for j in jobs]
        self.pipeline.last_speech_timestamp = 0.0
        try:
            outputs = self.pipeline.forward(features, tokenizer, meta, options)
        except IndexError:
            # faster-whisper's word aligner trips over a chunk with no tokens; decode one by one
            outputs = [
                self.pipeline.forward(features[i : i + 1], tokenizer, meta[i : i + 1], options)[0]
                if jobs[i].audio.size
                else []
                for i in range(len(jobs))
            ]
        return [self._guard(job, segs, language) for job, segs in zip(jobs, outputs)]

    def _guard(self, job: ChunkJob, segs: list[dict[str, Any]], language: str) -> ChunkResult:
        g = self.guards
        if not segs:
            return ChunkResult([], language)
        avg_logprob = float(segs[0]["avg_logprob"])
        no_speech = float(segs[0]["no_speech_prob"])
        text = "".join(s["text"] for s in segs)
        if no_speech > g.no_speech_threshold and avg_logprob < g.log_prob_threshold:
            return ChunkResult([], language, dropped_segments=len(segs))
        bad = get_compression_ratio(text) > g.compression_ratio_threshold
        # a tail is a few words that VAD says are speech: its log-probability is naturally low
        # (no audio before it), so only a repetition loop sends it to the fallback
        bad = bad or (avg_logprob < g.log_prob_threshold and not job.tail)
        if bad and job.temperature == 0.0:
            return self._fallback(job, language)
        return ChunkResult([_clean(s, job.temperature) for s in segs], language)

    def _fallback(self, job: ChunkJob, language: str) -> ChunkResult:
        """Re-decode one chunk with temperature fallback; drop only loops that are also doubtful."""
        segments, _ = self.model.transcribe(
            job.audio,
            language=language,
            task=job.task,
            beam_size=job.beam_size,
            temperature=list(FALLBACK_TEMPERATURES),
            compression_ratio_threshold=self.guards.compression_ratio_threshold,
            log_prob_threshold=self.guards.log_prob_threshold,
            no_speech_threshold=self.guards.no_speech_threshold,
            condition_on_previous_text=False,
            word_timestamps=job.word_timestamps,
            initial_prompt=job.initial_prompt,
            hotwords=job.hotwords,
            vad_filter=False,
        )
        kept, dropped = [], 0
        g = self.guards
        for s in segments:
            # a loop that is also unlikely or probably silence is a hallucination; a confident
            # repetition is real speech (people do repeat themselves) and is kept
            looping = s.compression_ratio > g.compression_ratio_threshold
            doubtful = (
                s.avg_logprob < g.log_prob_threshold or s.no_speech_prob > g.no_speech_threshold
            )
            if looping and doubtful:
                dropped += 1
                continue
            kept.append(
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "avg_logprob": s.avg_logprob,
                    "no_speech_prob": s.no_speech_prob,
                    "compression_ratio": s.compression_ratio,
                    "temperature": s.temperature,
                    "words": [
                        {
                            "word": w.word,
                            "start": w.start,
                            "end": w.end,
                            "probability": w.probability,
                        }
                        for w in (s.words or [])
                    ],
                }
            )
        return ChunkResult(kept, language, fallback=True, dropped_segments=dropped)


def _clean(seg: dict[str, Any], temperature: float) -> dict[str, Any]:
    return {
        "start": float(seg["start"]),
        "end": float(seg["end"]),
        "text": seg["text"],
        "avg_logprob": float(seg["avg_logprob"]),
        "no_speech_prob": float(seg["no_speech_prob"]),
        "compression_ratio": float(seg["compression_ratio"]),
        "temperature": temperature,
        "words": [
            {
                "word": w["word"],
                "start": float(w["start"]),
                "end": float(w["end"]),
                "probability": float(w["probability"]),
            }
            for w in seg.get("words") or []
        ],
    }


def _drop_outside_speech(job: ChunkJob, result: ChunkResult) -> None:
    """Text that lies wholly in what VAD heard as silence is Whisper talking over a pause."""
    if job.speech is None:
        return
    regions = job.speech
    kept = [
        seg
        for seg in result.segments
        if any(
            seg["start"] < e + SPEECH_SLACK_S and seg["end"] > s - SPEECH_SLACK_S
            for s, e in regions
        )
    ]
    result.dropped_segments += len(result.segments) - len(kept)
    result.segments = kept


def _shift_speech(
    speech: list[tuple[float, float]] | None, offset: float
) -> list[tuple[float, float]] | None:
    """Speech regions of the audio that starts ``offset`` seconds into the chunk."""
    if speech is None:
        return None
    return [(max(0.0, s - offset), e - offset) for s, e in speech if e > offset]


def _context(prompt: str | None, result: ChunkResult) -> str:
    """The user's prompt, then the text decoded so far (Whisper keeps the last 223 tokens)."""
    decoded = "".join(s["text"] for s in result.segments).strip()
    return f"{prompt.strip()} {decoded}".strip() if prompt else decoded


def _speech_end(job: ChunkJob) -> float:
    duration = job.audio.size / SAMPLE_RATE
    if job.speech is None:
        return duration
    return min(job.speech[-1][1], duration) if job.speech else 0.0


def _decoded_end(result: ChunkResult) -> float:
    """Chunk-local end of the decoded speech: the last word's end, else the last segment's."""
    ends = [w["end"] for s in result.segments for w in s.get("words") or []]
    return max(ends) if ends else max(s["end"] for s in result.segments)


def _shifted(seg: dict[str, Any], offset: float) -> dict[str, Any]:
    words = [{**w, "start": w["start"] + offset, "end": w["end"] + offset} for w in seg["words"]]
    return {**seg, "start": seg["start"] + offset, "end": seg["end"] + offset, "words": words}
