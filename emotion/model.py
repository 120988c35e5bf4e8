"""The stress model: two small logistic regressions over normalised acoustic features.

* **absolute** - used until the speaker has a baseline: window features against the population.
  It never sees ``loud_db`` (absolute level depends on the telephone gain).
* **relative** - window features minus the speaker's baseline (:mod:`emotion.baseline`). Every
  feature, level included, is a *difference* from the same speaker on the same line, so a gain that
  is constant over the call cancels out.

Score = ``100 * sigmoid(a * (w . (x - mean) / scale + b0) + c)``: the logistic regression's
decision value, re-calibrated (``a``, ``c``: Platt scaling) on leave-speaker-out predictions so
the score reads as the probability, in percent, that the speech is high-arousal for a speaker the
model never heard. The whole model is one JSON file (see ``models/stress/``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agent_monitor.errors import StressError
from agent_monitor.files import write_atomic
from emotion.features import FEATURE_NAMES, N_FEATURES
from emotion.pitch import FloatArray

MODEL_FORMAT = "agent-monitor-stress-model"
MODEL_VERSION = 1
#: relative features are clipped to this many training standard deviations (robust to outliers)
Z_CLIP = 5.0


@dataclass(frozen=True)
class LinearScorer:
    """One calibrated logistic regression over a subset of :data:`FEATURE_NAMES`."""

    features: tuple[str, ...]
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float
    calib_a: float = 1.0
    calib_c: float = 0.0
    _index: tuple[int, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURE_NAMES]
        if unknown:
            raise StressError(f"stress model uses unknown features: {', '.join(unknown)}")
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise StressError("stress model is corrupt: coefficient lengths differ from its feature list")
        if not np.all(np.isfinite(np.concatenate([self.mean, self.scale, self.coef]))) or np.any(
            self.scale <= 0
        ):
            raise StressError("stress model is corrupt: non-finite or non-positive coefficients")
        object.__setattr__(self, "_index", tuple(FEATURE_NAMES.index(f) for f in self.features))

    def decision(self, x: FloatArray) -> FloatArray:
        """Uncalibrated decision value for feature rows ``x`` (``n`` x :data:`N_FEATURES`)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != N_FEATURES:
            raise StressError(f"expected {N_FEATURES} features, got {x.shape[1]}")
        z = np.clip((x[:, list(self._index)] - self.mean) / self.scale, -Z_CLIP, Z_CLIP)
        out: FloatArray = z @ self.coef + self.intercept
        return out

    def score(self, x: FloatArray) -> FloatArray:
        """Calibrated score 0-100 for feature rows ``x``."""
        d = self.calib_a * self.decision(x) + self.calib_c
        out: FloatArray = 100.0 / (1.0 + np.exp(-np.clip(d, -50.0, 50.0)))
        return out

    def contributions(self, x: FloatArray) -> dict[str, float]:
        """Per-feature contribution to the decision value of one row (for explanations)."""
        row = np.asarray(x, dtype=np.float64).reshape(-1)
        z = np.clip((row[list(self._index)] - self.mean) / self.scale, -Z_CLIP, Z_CLIP)
        return {f: float(v) for f, v in zip(self.features, z * self.coef, strict=True)}

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
            "calibration": {"a": round(self.calib_a, 6), "c": round(self.calib_c, 6)},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearScorer:
        calib = data.get("calibration", {})
        return cls(
            features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
            calib_a=float(calib.get("a", 1.0)),
            calib_c=float(calib.get("c", 0.0)),
        )


@dataclass(frozen=True)
class StressModel:
    """The absolute and the relative scorer plus where they came from."""

    absolute: LinearScorer
    relative: LinearScorer
    #: free-form training facts (data, speakers, cross-validation figures); kept in the file
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def training_speakers(self) -> frozenset[str]:
        return frozenset(self.training.get("speakers", ()))

    def score_absolute(self, x: FloatArray) -> float:
        return float(self.absolute.score(x)[0])

    def score_relative(self, x: FloatArray, baseline: FloatArray) -> float:
        return float(self.relative.score(np.asarray(x) - np.asarray(baseline))[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "feature_names": list(FEATURE_NAMES),
            "absolute": self.absolute.to_json(),
            "relative": self.relative.to_json(),
            "training": self.training,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StressModel:
        if data.get("format") != MODEL_FORMAT:
            raise StressError("not a stress model file (format field missing or wrong)")
        if data.get("version") != MODEL_VERSION:
            raise StressError(
                f"stress model version {data.get('version')} is not supported (need {MODEL_VERSION}); "
                "retrain with `agent-monitor stress train`"
            )
        if tuple(data.get("feature_names", ())) != FEATURE_NAMES:
            raise StressError(
                "stress model was trained on another feature set; retrain with `agent-monitor stress train`"
            )
        return cls(
            absolute=LinearScorer.from_json(data["absolute"]),
            relative=LinearScorer.from_json(data["relative"]),
            training=dict(data.get("training", {})),
        )

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_json(), indent=1, ensure_ascii=False, allow_nan=False)
        write_atomic(path, text + "\n")  # a server loading it never finds half a model


def load_model(path: Path) -> StressModel:
    """Load a stress model file (cached per path and modification time)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise StressError(
            f"{path}: stress model not found; run `agent-monitor stress train` to build it"
        ) from exc
    return _load_cached(str(path), stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> StressModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StressError(f"{path}: cannot read stress model: {exc}") from exc
    try:
        return StressModel.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StressError(f"{path}: stress model is corrupt: {exc}") from exc


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))
