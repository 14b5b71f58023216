"""Scoring TranscrevAI against references: Portuguese normalisation, WER/CER, DER, manifests.

Used by ``scripts/evaluate.py`` and the quality tests; no model code here.
"""

from transcrevai.evaluation.der import DERResult, der, read_rttm, write_rttm
from transcrevai.evaluation.loaders import ManifestItem, load_manifest
from transcrevai.evaluation.normalize import make_normalizer, normalize_pt
from transcrevai.evaluation.wer import ErrorRates, combine, wer, wer_per_utterance

__all__ = [
    "DERResult",
    "ErrorRates",
    "ManifestItem",
    "combine",
    "der",
    "load_manifest",
    "make_normalizer",
    "normalize_pt",
    "read_rttm",
    "wer",
    "wer_per_utterance",
    "write_rttm",
]
