"""The deterioration score: a logistic model over the features, read from a versioned file,
whose every alert names its largest contributions.

The score is the sum of the contributions, weight × feature, in log-odds units relative to a
stable patient within normal limits (every feature is 0 for such a patient, so their score is
0). The fitted weights are constrained to be ≥ 0 and the features grow only with
deterioration, so each contribution is ≥ 0: the reasons never say "heart rate counted
against", and an improving value never raises the score. The intercept is kept in the file
(it turns the score into a probability for the fitting population) but is not part of the
score, so that thresholds read as "this much evidence beyond normal".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from monitor.deterioration import features as feat

WEIGHTS_FILE = Path(__file__).with_name("weights-v2.json")
FORMAT = "crsmon-deterioration-weights"


@dataclass(frozen=True)
class Model:
    """What the weights file holds. `thresholds` are the alert dynamics the fit chose (the
    engine's configuration takes its defaults from them, see monitor/config.py)."""

    version: str
    features: tuple[str, ...]
    weights: np.ndarray
    intercept: float
    thresholds: dict[str, float]
    about: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.features) != feat.FEATURES:
            missing = sorted(set(feat.FEATURES) - set(self.features))
            extra = sorted(set(self.features) - set(feat.FEATURES))
            raise ValueError(
                f"weights file does not match the feature code: missing {missing}, "
                f"unknown {extra} (or a different order)"
            )
        if len(self.weights) != len(self.features) or not np.all(np.isfinite(self.weights)):
            raise ValueError("one finite weight per feature is required")


def to_json(model: Model) -> str:
    document = {
        "format": FORMAT,
        "version": model.version,
        "features": list(model.features),
        "weights": {name: round(float(w), 6) for name, w in zip(model.features, model.weights)},
        "intercept": round(float(model.intercept), 6),
        "thresholds": model.thresholds,
        "about": model.about,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> Model:
    document = json.loads(text)
    if document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    names = tuple(document["features"])
    weights = np.array([float(document["weights"][name]) for name in names])
    return Model(
        str(document["version"]),
        names,
        weights,
        float(document["intercept"]),
        {k: float(v) for k, v in document["thresholds"].items()},
        document.get("about", {}),
    )


def load(path: str | Path | None = None) -> Model:
    """The shipped weights unless a path is given (None or "" — the default of the
    `deterioration_weights` setting — means the shipped file); read once at start."""
    return from_json(Path(path or WEIGHTS_FILE).read_text())


def contributions(model: Model, values: np.ndarray) -> np.ndarray:
    """weight × feature, (n, features) for (n, features) values (or one row for one)."""
    return np.asarray(values) * model.weights


def score(model: Model, values: np.ndarray) -> np.ndarray:
    """The score: the sum of the contributions."""
    return contributions(model, values).sum(axis=-1)


class Assessment(NamedTuple):
    """One patient's deterioration score at one moment: its contributions by feature (they
    sum to the score), and the reasons — one per measurement, largest total first."""

    score: float
    contributions: dict[str, float]
    reasons: tuple[str, ...]


def group_of(name: str) -> str:
    """The measurement a feature speaks about (its channel; `air_or_oxygen` for oxygen):
    reasons are given per measurement, so that "temperature" is said once, not three times."""
    if name.startswith("news2_"):
        return name[len("news2_") :]
    for channel in feat.CHANNELS:
        if name.startswith(channel + "_"):
            return channel
    raise ValueError(f"unknown feature {name}")


def _signed(value: float, unit: str, digits: int) -> str:
    sign = "+" if value >= 0 else "−"
    return f"{sign}{abs(value):.{digits}f}{unit}"


def _digits(channel: str) -> int:
    return 2 if channel == "shock_index" else 1 if channel == "temperature" else 0


def describe(name: str, f: feat.Features, row: int = 0) -> str:
    """What feature `name` says about the patient, in words: "heart rate +22/min over 6 h",
    "MAP −15 mmHg from baseline 80", "respiratory rate 26/min (NEWS2 3)"."""
    index = {c: i for i, c in enumerate(feat.CHANNELS)}
    if name.startswith("news2_"):
        part = name[len("news2_") :]
        points = int(f.values[row, feat.FEATURES.index(name)])
        if part == "air_or_oxygen":
            return f"on supplemental oxygen (NEWS2 {points})"
        channel = part
        value = f.current[row, index[channel]]
        return f"{feat.LABEL[channel]} {value:.{_digits(channel)}f}{feat.UNIT[channel]} (NEWS2 {points})"
    if name.endswith("_level"):
        channel = name[: -len("_level")]
        digits = _digits(channel)
        return (
            f"{feat.LABEL[channel]} {f.current[row, index[channel]]:.{digits}f}"
            f"{feat.UNIT[channel]} (normal limit {feat.NORMAL_LIMIT[channel]:g})"
        )
    if name.endswith(f"_worst_{feat.WORST_H}h"):
        channel = name[: -len(f"_worst_{feat.WORST_H}h")]
        digits = _digits(channel)
        word = "highest" if feat.DIRECTION[channel] > 0 else "lowest"
        return (
            f"{feat.LABEL[channel]} {word} {f.worst[row, index[channel]]:.{digits}f}"
            f"{feat.UNIT[channel]} in the last {feat.WORST_H} h"
        )
    if name.endswith("_trend"):
        channel = name[: -len("_trend")]
        change = f.trend[row, index[channel]]
        return f"{feat.LABEL[channel]} {_signed(change, feat.UNIT[channel], _digits(channel))} over {feat.TREND_H} h"
    channel = name[: -len("_from_baseline")]
    change, base = f.from_baseline[row, index[channel]], f.baseline[row, index[channel]]
    digits = _digits(channel)
    return f"{feat.LABEL[channel]} {_signed(change, feat.UNIT[channel], digits)} from baseline {base:.{digits}f}"


def reason(group: str, parts: dict[str, float], f: feat.Features, least: float, row: int = 0) -> str:
    """One measurement's reason: its current value, worst of 12 h, 6-hour change and change
    from baseline — whichever contribute at least `least` — and its total contribution."""
    if group == "air_or_oxygen":
        return f"on supplemental oxygen [+{sum(parts.values()):.2f}]"
    index = feat.CHANNELS.index(group)
    digits, unit = _digits(group), feat.UNIT[group]
    said = []
    if parts.get(f"{group}_level", 0) >= least or parts.get(f"news2_{group}", 0) >= least:
        said.append(f"{feat.LABEL[group]} {f.current[row, index]:.{digits}f}{unit}")
    worst = f"{group}_worst_{feat.WORST_H}h"
    if parts.get(worst, 0) >= least:
        said.append(
            describe(worst, f, row) if not said else describe(worst, f, row).replace(feat.LABEL[group] + " ", "", 1)
        )
    for name in (f"{group}_trend", f"{group}_from_baseline"):
        if parts.get(name, 0) >= least:
            text = describe(name, f, row)
            said.append(text if not said else text.replace(feat.LABEL[group] + " ", "", 1))
    if not said:  # many small parts adding up: name the measurement at least
        said.append(f"{feat.LABEL[group]} {f.current[row, index]:.{digits}f}{unit}")
    return f"{', '.join(said)} [+{sum(parts.values()):.2f}]"


class Scored(NamedTuple):
    """One moment's score with what its reasons would need, so that they can be worded later,
    and only when someone reads them (`reasons`)."""

    score: float
    moment: feat.Moment
    parts: list[float]  # the contributions, in FEATURES order


#: Each measurement's features, as `group_of` groups them (indices into FEATURES), in the order
#: the reasons have always listed measurements of equal weight (first mention in FEATURES).
_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (group, tuple(i for i, name in enumerate(feat.FEATURES) if group_of(name) == group))
    for group in dict.fromkeys(group_of(name) for name in feat.FEATURES)
)


def score_moment(model: Model, moment: feat.Moment) -> Scored:
    """The score of one moment's features (`features.compute_hours`: the engine's way), without
    wording any reason: the engine scores every patient-hour but needs the reasons only while a
    level is open."""
    products = np.array(moment.values) * model.weights
    # numpy's own sum (pairwise) of numpy's own products, so the score is `score()`'s to the bit
    return Scored(float(products.sum()), moment, products.tolist())


def without(scored: Scored, group: str) -> Scored:
    """The same moment scored without one measurement's contributions (every feature of its
    group): in a CRS risk period the ASTCT grade speaks for the temperature."""
    indices = dict(_GROUPS)[group]
    parts = [0.0 if index in indices else part for index, part in enumerate(scored.parts)]
    return Scored(float(np.array(parts).sum()), scored.moment, parts)


def reasons(model: Model, scored: Scored, top: int = 3, least: float = 0.05) -> tuple[str, ...]:
    """The reasons for the `top` measurements contributing at least `least` in total, largest
    first: "temperature 38.7 °C, highest 38.9 °C in the last 12 h [+1.75]"."""
    parts, names = scored.parts, model.features
    groups = {group: {names[i]: parts[i] for i in indices} for group, indices in _GROUPS}
    totals = sorted(((sum(g.values()), name) for name, g in groups.items()), key=lambda item: -item[0])
    chosen = [name for total, name in totals[:top] if total >= least]
    if not chosen:
        return ()
    f = scored.moment.features()
    return tuple(reason(name, groups[name], f, least) for name in chosen)


def assess(model: Model, hourly: np.ndarray, on_oxygen: bool = False, top: int = 3, least: float = 0.05) -> Assessment:
    """Score one patient now from (24, COUNT) hourly medians (see features.hourly_medians),
    with reasons for the `top` measurements contributing at least `least` in total, largest
    first: "temperature 38.7 °C, highest 38.9 °C in the last 12 h [+1.75]"."""
    hourly = np.asarray(hourly, dtype=float)
    if hourly.ndim == 3:  # `compute`'s batch form: as always, the first moment is assessed
        hourly = hourly[0]
    scored = score_moment(model, feat.compute_one(hourly, on_oxygen))
    return Assessment(scored.score, dict(zip(model.features, scored.parts)), reasons(model, scored, top, least))
