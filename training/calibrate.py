"""Turning raw model scores into probabilities, fitted on validation and stored as plain JSON.

Isotonic regression when validation holds enough positives, else a sigmoid (Platt) fit, which has
two parameters and cannot overfit a handful of positives. Both act on the model's raw margin and
never fall as it grows: calibration may not reorder the accounts the model ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

EPS = 1e-6
FLAT_SLOPE = 1e-6  # a sigmoid no steeper than this is flat: probabilities at the base rate


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from raw score to probability.

    kind 'isotonic': piecewise-linear through (x, y) knots, flat beyond the ends.
    kind 'sigmoid': p = 1 / (1 + exp(-(a * score + b))).
    """

    kind: Literal["isotonic", "sigmoid"]
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.kind == "isotonic":
            p = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        else:
            p = 1.0 / (1.0 + np.exp(-(self.a * raw + self.b)))
        return np.clip(p, EPS, 1 - EPS)

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "isotonic":
            return {"kind": "isotonic", "x": list(self.x), "y": list(self.y)}
        return {"kind": "sigmoid", "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        if d.get("kind") == "isotonic":
            x, y = tuple(float(v) for v in d["x"]), tuple(float(v) for v in d["y"])
            if len(x) != len(y) or not x or any(b < a for a, b in zip(x, x[1:], strict=False)):
                raise ValueError(
                    "isotonic calibrator needs equally long, sorted, non-empty x and y"
                )
            return cls("isotonic", x=x, y=y)
        if d.get("kind") == "sigmoid":
            return cls("sigmoid", a=float(d["a"]), b=float(d["b"]))
        raise ValueError(f"unknown calibrator kind {d.get('kind')!r}")


def fit_calibrator(raw: np.ndarray, y: np.ndarray, isotonic_min_positives: int) -> Calibrator:
    """Isotonic when y holds at least `isotonic_min_positives` positives, else sigmoid."""
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs both positives and negatives in the validation window")
    if int(y.sum()) >= isotonic_min_positives:
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return Calibrator(
            "isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    # Nearly unregularised logistic fit on the single raw score = Platt scaling.
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if a < FLAT_SLOPE:
        # validation's few positives scored low: a falling sigmoid would turn the head's ranking
        # upside down for every account. The best rising fit is flat (the validation rate); a
        # slope of FLAT_SLOPE keeps the head's order among accounts
        rate = float(y.mean())
        a = FLAT_SLOPE
        b = float(np.log(rate / (1 - rate)) - a * np.median(raw))
    return Calibrator("sigmoid", a=a, b=b)


def is_flat(cal: Calibrator) -> bool:
    """A sigmoid that found no rise of the observed rate with the score (see fit_calibrator)."""
    return cal.kind == "sigmoid" and cal.a <= FLAT_SLOPE
