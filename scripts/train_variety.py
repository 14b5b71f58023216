"""Fit the character n-gram half of transcrevai.variety and write transcrevai/data/variety_model.json.

Reproducible: deterministic folds and solver, training split only (tests/data/variety/train.tsv);
the held-out test split is never read here. Steps:
  1. out-of-fold (5-fold) n-gram logits for each regularisation strength C;
  2. grid-search alpha (marker weight scale) and beta (n-gram weight) on those out-of-fold logits,
     best accuracy first, then log-loss, so the mix is chosen on data the n-gram model did not
     see; alpha is capped at 4 because the markers were written with the training sentences in
     view, which makes their fit (and so any larger scale) optimistic;
  3. refit the n-gram model on the whole training split and export its weights as JSON; when
     cross-validation gives the n-grams no weight (beta = 0) none are exported.

Usage: python scripts/train_variety.py [--train PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
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
    char_ngrams,
    find_markers,
    load_tsv,
    marker_scores,
)

NGRAM_RANGE = (2, 4)
C_GRID = (0.3, 1.0, 3.0, 10.0)
ALPHA_GRID = tuple(round(0.25 * i, 2) for i in range(1, 17))  # 0.25 .. 4.0
BETA_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
SEED = 0


def _fit(texts: list[str], y: np.ndarray, c: float) -> tuple[TfidfVectorizer, LogisticRegression]:
    vec = TfidfVectorizer(
        analyzer=partial(char_ngrams, lo=NGRAM_RANGE[0], hi=NGRAM_RANGE[1]),
        use_idf=False,
        binary=True,
        norm="l2",
        min_df=2,
    )
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=5000)
    clf.fit(x, y)
    return vec, clf


def _logits(vec: TfidfVectorizer, clf: LogisticRegression, texts: list[str]) -> np.ndarray:
    raw = clf.decision_function(vec.transform(texts))
    order = [list(clf.classes_).index(i) for i in range(len(LABELS))]
    return np.asarray(raw)[:, order]


def _oof_logits(texts: list[str], y: np.ndarray, c: float) -> np.ndarray:
    out = np.zeros((len(texts), len(LABELS)))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    for tr, te in folds.split(texts, y):
        vec, clf = _fit([texts[i] for i in tr], y[tr], c)
        out[te] = _logits(vec, clf, [texts[i] for i in te])
    return out


def _log_loss_and_acc(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((logits.argmax(axis=1) == y).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, default=ROOT / "tests/data/variety/train.tsv")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()

    rows = load_tsv(args.train)
    texts = [t for _, t in rows]
    y = np.array([LABELS.index(lab) for lab, _ in rows])
    hand = np.array([marker_scores(find_markers(t)) for t in texts])

    best: tuple[float, float, float, float, float] | None = None  # -acc, loss, beta, C, alpha
    for c in C_GRID:
        oof = _oof_logits(texts, y, c)
        ng_loss, ng_acc = _log_loss_and_acc(oof, y)
        print(f"char n-grams alone, C={c}: 5-fold OOF acc={ng_acc:.3f} log-loss={ng_loss:.3f}")
        for alpha in ALPHA_GRID:
            for beta in BETA_GRID:
                loss, acc = _log_loss_and_acc(alpha * hand + beta * oof, y)
                cand = (-round(acc, 6), round(loss, 6), beta, c, alpha)
                if best is None or cand < best:
                    best = cand
    assert best is not None
    neg_acc, loss, beta, c, alpha = best
    print(
        f"chosen alpha={alpha} beta={beta} (C={c}): 5-fold OOF acc={-neg_acc:.3f} "
        f"log-loss={loss:.3f}"
    )

    classes = list(LABELS)
    intercept, coef = [0.0, 0.0, 0.0], {}
    if beta > 0:
        vec, clf = _fit(texts, y, c)
        classes = [LABELS[i] for i in clf.classes_]
        intercept = [round(float(v), 5) for v in clf.intercept_]
        coef = {
            g: [round(float(v), 5) for v in clf.coef_[:, j]]
            for g, j in sorted(vec.vocabulary_.items())
        }
    model = {
        "about": "char n-gram logistic regression for transcrevai.variety; "
        "written by scripts/train_variety.py",
        "train_sha256": hashlib.sha256(args.train.read_bytes()).hexdigest(),
        "n_train": len(rows),
        "classes": classes,
        "ngram_range": list(NGRAM_RANGE),
        "C": c,
        "alpha": alpha,
        "beta": beta,
        "cv_log_loss": round(loss, 4),
        "cv_accuracy": round(-neg_acc, 4),
        "intercept": intercept,
        "coef": coef,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(model, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({len(coef)} n-grams, {size_kb:.0f} KiB)")
    assert math.isfinite(loss)


if __name__ == "__main__":
    main()
