"""One evaluation of the deterioration warning: µs before (the frozen copy of the code as it
was, tests/support/deterioration_reference.py) and after (the shipped code), on the inputs the
engine really scores — each patient-hour's day of per-minute medians from the window, recorded
while the engine runs the PhysioNet sample stays with `deterioration_rule` on.

Run:  .venv/bin/python -m bench.deterioration_speed [--stays 60] [--rounds 5]

Figures (best of `--rounds` interleaved rounds, process CPU time, µs per evaluation):
- assess (24, 7): `assess` from one moment's hourly medians, score and reasons (the reference
  words reasons every time; so does `assess`);
- score_moment (24, 7): what the engine now pays every hour (reasons only while a level is open);
- hourly_medians (1440, 7): the window's minutes to hourly medians;
- minutes_until (window): the window's day of per-minute medians (`Window.minutes_until`, the
  sparse conversion) on copies of the windows as they were at each evaluation;
- hour_medians (window): what the engine now asks the window for, the day's hourly medians of
  the six columns the features read (`Window.hour_medians`), each window holding the hours it
  had kept at that evaluation; before: the reference's minutes and hourly medians;
- engine step: from the hourly medians, the features and the score (`compute_hours`,
  `score_moment`), with reasons where the engine words them (a level open); before: `assess`;
- whole evaluation: hour_medians + engine step, i.e. HourlyWarning.evaluate without the
  alert state machine (a few µs);
- vs minutes_until → score: the same whole evaluation against the way the engine did it
  before `hour_medians` (minutes_until, hourly_medians, compute_one, score_moment).

Other work on the machine skews timings; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.config import EngineConfig  # noqa: E402
from monitor.deterioration import engine_rule  # noqa: E402
from monitor.deterioration import features as feat  # noqa: E402
from monitor.deterioration import model as dmodel  # noqa: E402
from monitor.engine import Engine  # noqa: E402
from tests.support import deterioration_reference as ref  # noqa: E402
from validation.physionet import ColumnMap, read_stay  # noqa: E402
from validation.problems import Problems  # noqa: E402
from validation.stays import Stay  # noqa: E402

DATA = ROOT / "tests" / "data" / "physionet2019"


def engine_inputs(count: int) -> list:
    """(minutes, on_oxygen, level open afterwards, the window then, the evaluation's last
    minute, the hours the window kept then) for every evaluation of `count` stays."""
    seen: list = []
    evaluate = engine_rule.HourlyWarning.evaluate

    def record(self, patient, at, news2, on_oxygen, risk_period=False):
        window, end = copy.deepcopy(patient.window), int(round((at - self.grace_s) / 3600)) * 60
        evaluate(self, patient, at, news2, on_oxygen, risk_period)
        medium_open, _, high_open, _, _ = patient.deterioration
        seen.append(
            [
                ref.minutes_until(window, end, feat.HOURS * 60),
                bool(on_oxygen),
                bool(medium_open or high_open),
                window,
                end,
                window._hours,  # noqa: SLF001  # put back before each timed call
            ]
        )

    engine_rule.HourlyWarning.evaluate = record  # type: ignore[method-assign]  # recorded, then put back
    try:
        engine = Engine(EngineConfig(deterioration_rule=True))
        for path in sorted(DATA.glob("*.psv"))[:count]:
            stay = cast(Stay, read_stay(path, ColumnMap(), Problems()))  # the shipped records all read
            for event in stay.events:
                engine.observe(event)
            engine.close(stay.patient_id, stay.start + timedelta(hours=stay.hours))
    finally:
        engine_rule.HourlyWarning.evaluate = evaluate  # type: ignore[method-assign]
    return seen


def per_call(function, items, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for item in items:
            function(*item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = dmodel.load()
    inputs = engine_inputs(args.stays)
    hourly = [(feat.hourly_medians(m), oxygen) for m, oxygen, *_ in inputs]
    opened = sum(o for _, _, o, *_ in inputs)
    day = feat.HOURS * 60

    def old_step(minutes, oxygen, _open, *_):
        return ref.assess(model, ref.hourly_medians(minutes), oxygen)

    def new_step(minutes, oxygen, level_open, *_):  # as the engine did before hour_medians
        scored = dmodel.score_moment(model, feat.compute_one(feat.hourly_medians(minutes), oxygen))
        return dmodel.reasons(model, scored) if level_open else scored

    def hours_of(window, end, kept):
        window._hours = kept  # noqa: SLF001  # the hours the engine's window held then
        return window.hour_medians(end, feat.HOURS, feat.CHANNEL_COLUMNS)

    def hours_step(hours, oxygen, level_open):
        scored = dmodel.score_moment(model, feat.compute_hours(hours, oxygen))
        return dmodel.reasons(model, scored) if level_open else scored

    def old_whole(_minutes, oxygen, level_open, window, end, _kept):
        return old_step(ref.minutes_until(window, end, day), oxygen, level_open)

    def minutes_whole(_minutes, oxygen, level_open, window, end, _kept):
        return new_step(window.minutes_until(end, day), oxygen, level_open)

    def hours_whole(_minutes, oxygen, level_open, window, end, kept):
        return hours_step(hours_of(window, end, kept), oxygen, level_open)

    columns = list(feat.CHANNEL_COLUMNS)
    by_hours = [(hours_of(w, end, kept), oxygen, level_open) for _m, oxygen, level_open, w, end, kept in inputs]
    for item, (hours, *_) in zip(inputs, by_hours):  # the figures are of the same answers
        assert np.array_equal(np.array(hours), feat.hourly_medians(item[0])[:, columns], equal_nan=True)
    rows = [
        ("assess (24, 7)", lambda h, o: ref.assess(model, h, o), lambda h, o: dmodel.assess(model, h, o), hourly),
        (
            "score_moment (24, 7)",
            lambda h, o: ref.assess(model, h, o),  # before: assess was all
            lambda h, o: dmodel.score_moment(model, feat.compute_one(h, o)),
            hourly,
        ),
        ("hourly_medians (1440, 7)", lambda m, *_: ref.hourly_medians(m), lambda m, *_: feat.hourly_medians(m), inputs),
        (
            "minutes_until (window)",
            lambda m, o, _, w, end, k: ref.minutes_until(w, end, day),
            lambda m, o, _, w, end, k: w.minutes_until(end, day),
            inputs,
        ),
        (
            "hour_medians (window)",
            lambda m, o, _, w, end, k: ref.hourly_medians(ref.minutes_until(w, end, day))[:, columns],
            lambda m, o, _, w, end, k: hours_of(w, end, k),
            inputs,
        ),
        (
            "engine step",
            lambda m, o, lv, _h: old_step(m, o, lv),
            lambda _m, o, lv, h: hours_step(h, o, lv),
            [(m, o, lv, h) for (m, *_), (h, o, lv) in zip(inputs, by_hours)],
        ),
        ("whole evaluation", old_whole, hours_whole, inputs),
        ("  vs minutes_until → score", minutes_whole, hours_whole, inputs),
    ]
    print(
        f"{len(inputs)} evaluations of {args.stays} stays ({opened} with a level open); "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{'µs per evaluation':<28}{'before':>10}{'after':>10}{'speed-up':>10}")
    for name, before, after, items in rows:
        # interleaved: each round of one then the other, so load hits both alike
        old = new = float("inf")
        for _ in range(args.rounds):
            old = min(old, per_call(before, items, 1))
            new = min(new, per_call(after, items, 1))
        print(f"{name:<28}{old:>10.1f}{new:>10.1f}{old / new:>9.1f}×")


if __name__ == "__main__":
    main()
