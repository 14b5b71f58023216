"""Fit the learned half of transcrevai.variety and write transcrevai/data/variety_model.json.

Reproducible (fixed folds, deterministic solver) and reads the training split only
(tests/data/variety/train.tsv, which since round 3 also holds the former heldout2/heldout3 rows);
the held-out set, test.tsv, is never read here. Steps:
  1. marker scores for every training sentence (the hand-written markers, fixed);
  2. out-of-fold (5-fold) logits of a word 1-2-gram logistic regression, for each C;
  3. a stacker, a logistic regression on [marker scores, out-of-fold n-gram logits], scored by
     a second, nested 5-fold cross-validation; (C, stacker C) with the lowest log-loss wins
     (then accuracy), so the mix, the label priors and the calibration are all chosen on data
     the n-gram model did not see;
  4. refit the n-gram model on the whole split, fit the stacker on the out-of-fold logits and
     export both as JSON.

Usage: python scripts/train_variety.py [--train PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from transcrevai.variety import (  # noqa: E402
    LABELS,
    MODEL_PATH,
    find_markers,
    load_tsv,
    marker_scores,
    word_ngrams,
)

WORD_N = 2
C_GRID = (1.0, 3.0, 10.0)  # n-gram model
STACK_C_GRID = (0.3, 1.0, 3.0)  # stacker
SEED = 0


def _fit(texts: list[str], y: np.ndarray, c: float) -> tuple[TfidfVectorizer, LogisticRegression]:
    vec = TfidfVectorizer(
        analyzer=partial(word_ngrams, n=WORD_N), use_idf=False, binary=True, norm="l2", min_df=2
    )
    clf = LogisticRegression(C=c, max_iter=5000).fit(vec.fit_transform(texts), y)
    return vec, clf


def _oof_logits(texts: list[str], y: np.ndarray, c: float) -> np.ndarray:
    out = np.zeros((len(texts), len(LABELS)))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(texts, y):
        vec, clf = _fit([texts[i] for i in tr], y[tr], c)
        out[te] = clf.decision_function(vec.transform([texts[i] for i in te]))
    return out


def _nested_stack(x: np.ndarray, y: np.ndarray, c: float) -> np.ndarray:
    out = np.zeros((len(y), len(LABELS)))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED + 1).split(x, y):
        out[te] = LogisticRegression(C=c, max_iter=5000).fit(x[tr], y[tr]).decision_function(x[te])
    return out


def _log_loss_and_acc(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((logits.argmax(axis=1) == y).mean())


def _rounded(a: np.ndarray) -> list:
    return np.round(a.astype(float), 5).tolist()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=ROOT / "tests/data/variety/train.tsv")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()

    rows = load_tsv(args.train)
    texts = [t for _, t in rows]
    y = np.array([LABELS.index(lab) for lab, _ in rows])
    hand = np.array([marker_scores(find_markers(t)) for t in texts])
    m_loss, m_acc = _log_loss_and_acc(_nested_stack(hand, y, 1.0), y)
    print(f"markers alone (stacked): 5-fold acc={m_acc:.3f} log-loss={m_loss:.3f}")

    best: tuple[float, float, float, float] | None = None  # loss, -acc, C, stack C
    oof = {}
    for c in C_GRID:
        oof[c] = _oof_logits(texts, y, c)
        g_loss, g_acc = _log_loss_and_acc(oof[c], y)
        print(f"word n-grams alone, C={c}: 5-fold acc={g_acc:.3f} log-loss={g_loss:.3f}")
        for sc in STACK_C_GRID:
            loss, acc = _log_loss_and_acc(_nested_stack(np.hstack([hand, oof[c]]), y, sc), y)
            print(f"  stacked, stacker C={sc}: nested 5-fold acc={acc:.3f} log-loss={loss:.3f}")
            cand = (round(loss, 6), -round(acc, 6), c, sc)
            if best is None or cand < best:
                best = cand
    assert best is not None
    loss, neg_acc, c, sc = best
    print(f"chosen C={c} stacker C={sc}: nested 5-fold acc={-neg_acc:.3f} log-loss={loss:.3f}")

    vec, clf = _fit(texts, y, c)
    stack = LogisticRegression(C=sc, max_iter=5000).fit(np.hstack([hand, oof[c]]), y)
    assert list(clf.classes_) == list(stack.classes_) == list(range(len(LABELS)))
    model = {
        "about": "word n-gram logistic regression + stacker for transcrevai.variety; "
        "written by scripts/train_variety.py",
        "train_sha256": hashlib.sha256(args.train.read_bytes()).hexdigest(),
        "n_train": len(rows),
        "classes": list(LABELS),
        "word_n": WORD_N,
        "C": c,
        "stack_C": sc,
        "cv_markers_accuracy": round(m_acc, 4),
        "cv_accuracy": round(-neg_acc, 4),
        "cv_log_loss": round(loss, 4),
        "stack_features": ["marker pt-BR", "marker pt-PT", "marker pt-AF"]
        + ["ngram pt-BR", "ngram pt-PT", "ngram pt-AF"],
        "stack_coef": _rounded(stack.coef_),
        "stack_intercept": _rounded(stack.intercept_),
        "intercept": _rounded(clf.intercept_),
        "coef": {g: _rounded(clf.coef_[:, j]) for g, j in sorted(vec.vocabulary_.items())},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(model, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({len(vec.vocabulary_)} n-grams, {size_kb:.0f} KiB)")


if __name__ == "__main__":
    main()
