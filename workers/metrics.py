"""Quality yardsticks for a streamed clustering (defined in ``docs/evaluation.md``).

All metrics take the topic each document got *when it was processed*. A
document left unassigned (``-1``) counts as a cluster of its own: it was in no
topic, so it shares a topic with nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np


def singletonise(pred: np.ndarray) -> np.ndarray:
    """Give every unassigned (negative) prediction its own fresh cluster id."""
    pred = np.asarray(pred, dtype=np.int64).copy()
    neg = pred < 0
    if neg.any():
        start = int(pred.max(initial=-1)) + 1
        pred[neg] = np.arange(start, start + int(neg.sum()))
    return pred


def bcubed(labels: Sequence[object], pred: np.ndarray) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 averaged over documents.

    Per document: precision = share of its cluster with its label, recall =
    share of its label inside its cluster. Computed from the contingency
    table in O(n) rather than over document pairs.
    """
    _, lab = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    _, clu = np.unique(singletonise(pred), return_inverse=True)
    n = len(lab)
    if n == 0:
        return 0.0, 0.0, 0.0
    pair = lab.astype(np.int64) * (clu.max() + 1) + clu
    _, pair_idx, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
    joint = pair_count[pair_idx]  # docs sharing both label and cluster with this doc
    clu_size = np.bincount(clu)[clu]
    lab_size = np.bincount(lab)[lab]
    p = float(np.mean(joint / clu_size))
    r = float(np.mean(joint / lab_size))
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def partition_scores(labels: Sequence[object], pred: np.ndarray) -> dict[str, float]:
    """AMI, ARI and NMI (scikit-learn's definitions) with singleton outliers."""
    # Imported here: scikit-learn takes ~2 s to import, and the CLI imports this
    # module to build `topictrack eval --help`, so every `topictrack` paid it.
    from sklearn import metrics as skm

    lab = np.asarray(labels, dtype=object).astype(str)
    clu = singletonise(pred)
    return {
        "ami": float(skm.adjusted_mutual_info_score(lab, clu)),
        "ari": float(skm.adjusted_rand_score(lab, clu)),
        "nmi": float(skm.normalized_mutual_info_score(lab, clu)),
    }


def npmi_coherence(
    topic_words: Sequence[Sequence[str]], doc_tokens: Sequence[set[str]], eps: float = 1e-12
) -> float:
    """Mean NPMI over word pairs of each topic's keywords, on document co-occurrence.

    Pairs where a word never occurs score -1 (the NPMI minimum), so made-up
    keywords cannot raise the figure; pairs never co-occurring score -1 too.
    """
    vocab = sorted({w for words in topic_words for w in words})
    if not vocab or not doc_tokens:
        return 0.0
    index = {w: i for i, w in enumerate(vocab)}
    n_docs = len(doc_tokens)
    # Boolean doc x word incidence over the keyword vocabulary only.
    rows, cols = [], []
    for d, toks in enumerate(doc_tokens):
        for w in toks:
            j = index.get(w)
            if j is not None:
                rows.append(d)
                cols.append(j)
    inc = np.zeros((n_docs, len(vocab)), dtype=np.float32)
    inc[rows, cols] = 1.0
    df = inc.sum(axis=0)
    co = inc.T @ inc
    scores = []
    for words in topic_words:
        ids = [index[w] for w in words if w in index]
        for a, b in combinations(ids, 2):
            p_ab = co[a, b] / n_docs
            if p_ab <= 0:
                scores.append(-1.0)
                continue
            p_a, p_b = df[a] / n_docs, df[b] / n_docs
            pmi = np.log(p_ab / (p_a * p_b))
            scores.append(float(pmi / -np.log(p_ab + eps)) if p_ab < 1 else 1.0)
    return float(np.mean(scores)) if scores else 0.0


def topic_diversity(topic_words: Sequence[Sequence[str]]) -> float:
    """Share of unique words among all topics' keyword lists."""
    words = [w for ws in topic_words for w in ws]
    return len(set(words)) / len(words) if words else 0.0
