"""The linear baseline: TF-IDF over character and word n-grams + logistic regression per head.

Trained, saved, evaluated and served through the same commands and directory format
as the transformer, so every report can put the two side by side. It outputs head
logits of the same shapes as the transformer heads, so decoding, calibration and the
Predictor are shared.
"""

from __future__ import annotations

from collections.abc import Sequence

import joblib
import numpy as np
from scipy.special import logit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion

from cxnlp.modeling.targets import labelled_mask
from cxnlp.taxonomy import Taxonomy

_FLOOR = -30.0


def _single_precision(clf: object) -> None:
    """Store coefficients in float32: half the size on disk (one weight per feature and
    label), and scores move by ~1e-7, far below any threshold's resolution. Done right
    after fitting, so the fitted model and the saved one score identically."""
    for est in getattr(clf, "estimators_", [clf]):
        if hasattr(est, "coef_"):  # not a constant predictor
            est.coef_ = est.coef_.astype(np.float32)
            est.intercept_ = est.intercept_.astype(np.float32)


class LinearMultiHead:
    """One shared TF-IDF feature space, one classifier per head."""

    def __init__(self, taxonomy: Taxonomy, *, C: float = 4.0, max_features: int = 200_000, seed: int = 42) -> None:
        self.taxonomy = taxonomy
        self.C = C
        self.seed = seed
        self.features = FeatureUnion([
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                     max_features=max_features // 2)),
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                     token_pattern=r"(?u)[\w<>@]+", max_features=max_features // 2)),
        ])
        self.models: dict[str, object] = {}

    def fit(self, texts: Sequence[str], targets: dict[str, np.ndarray]) -> LinearMultiHead:
        X = self.features.fit_transform(texts)
        for head in self.taxonomy.heads:
            y = targets[head.name]
            keep = labelled_mask(head, y)
            if not keep.any():
                continue
            if head.is_multilabel:
                Y = y[keep].astype(int)
                # A label never seen positive (or never negative) cannot be fitted; it keeps a
                # constant score.
                cols = [j for j in range(Y.shape[1]) if 0 < Y[:, j].sum() < len(Y)]
                if not cols:
                    continue
                clf = OneVsRestClassifier(LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced",
                                                             random_state=self.seed))
                clf.fit(X[keep], Y[:, cols])
                self.models[head.name] = (clf, cols, Y.mean(axis=0))
            else:
                yy = y[keep]
                if len(np.unique(yy)) < 2:
                    continue
                clf = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced", random_state=self.seed)
                clf.fit(X[keep], yy)
                self.models[head.name] = (clf, list(clf.classes_), np.bincount(yy, minlength=head.num_labels))
        for clf, *_ in self.models.values():
            _single_precision(clf)
        return self

    def logits(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Head logits shaped like the transformer's: multilabel/multiclass [N, L], ordinal [N, L-1]."""
        X = self.features.transform(texts)
        n = X.shape[0]
        out: dict[str, np.ndarray] = {}
        for head in self.taxonomy.heads:
            L = head.num_labels
            model = self.models.get(head.name)
            if head.is_multilabel:
                z = np.full((n, L), _FLOOR, dtype=np.float64)
                if model is not None:
                    clf, cols, prior = model
                    scores = clf.decision_function(X)
                    z[:, cols] = scores.reshape(n, len(cols))
                    for j in range(L):
                        if j not in cols and prior[j] >= 1.0:
                            z[:, j] = -_FLOOR
                out[head.name] = z.astype(np.float32)
                continue
            probs = np.full((n, L), 1e-9)
            if model is not None:
                clf, classes, _ = model
                probs[:, classes] = clf.predict_proba(X)
            else:
                probs[:] = 1.0 / L
            probs /= probs.sum(axis=1, keepdims=True)
            if head.kind == "multiclass":
                out[head.name] = np.log(np.clip(probs, 1e-9, 1.0)).astype(np.float32)
            else:
                # Express the class distribution as cumulative logits P(y > k) so decoding
                # reproduces exactly these probabilities.
                cum = 1.0 - np.cumsum(probs, axis=1)[:, :-1]
                out[head.name] = logit(np.clip(cum, 1e-9, 1 - 1e-9)).astype(np.float32)
        return out

    def save(self, path: str) -> None:
        joblib.dump({"features": self.features, "models": self.models, "C": self.C, "seed": self.seed}, path)

    @classmethod
    def load(cls, path: str, taxonomy: Taxonomy) -> LinearMultiHead:
        state = joblib.load(path)
        obj = cls(taxonomy, C=state["C"], seed=state["seed"])
        obj.features = state["features"]
        obj.models = state["models"]
        return obj
