"""The deterioration warning inside the engine: one evaluation per hour of a patient's event
time, and the rule's level between evaluations.

Hour H is scored at H:00 plus a grace (`deterioration_grace_s`, a minute) over the day of
per-minute medians ending with H:00's minute, so a set charted on the hour is in its hour, as
in the offline figures (bench/deterioration). The time of each evaluation is a deadline of the
patient (`due`), so the timer, an event and `close` all score the same hours. Once a day has
passed without data and both levels are closed, nothing can change until data comes back:
there is no deadline then, and the next set schedules its own hour.
"""

from __future__ import annotations

import math

from monitor.deterioration.alerting import AlertState, Dynamics, from_config
from monitor.deterioration.features import CHANNEL_COLUMNS, HOURS, WORST_H, compute_hours
from monitor.deterioration.model import WEIGHTS_FILE, Model, Scored, load, reasons, score_moment, without
from monitor.episodes import Level
from monitor.patient_state import Patient

#: The settings a what-if sweep may change while sharing the hourly scores: the alert
#: machines' thresholds and counts, which act after the score.
THRESHOLD_SETTINGS = frozenset(f"deterioration_{name}" for name in Dynamics.__dataclass_fields__)


class HourlyWarning:
    """The model and its dynamics, loaded once per engine."""

    def __init__(self, config, scores: dict | None = None) -> None:
        """`scores`: a memo of hourly scores by (patient, hour, oxygen, risk period), shared
        with engines that see the same events. A score depends on the window and the weights,
        never on the alert thresholds, so a what-if sweep of the thresholds scores each
        patient-hour once (validation/run_stays.py; only for `THRESHOLD_SETTINGS`)."""
        self.scores = scores
        self.model: Model = load(config.deterioration_weights or WEIGHTS_FILE)
        self.dynamics: Dynamics = from_config(config)
        self.grace_s = float(config.deterioration_grace_s)
        self.fever_in_risk_period = bool(config.deterioration_counts_fever_in_risk_period)
        self.top = int(config.deterioration_reasons)
        self.least = float(config.deterioration_reason_min_score)
        self.severities = {"medium": config.deterioration_medium_severity, "high": config.deterioration_high_severity}
        self._quiet: dict[bool, Scored] = {}  # `quiet_half_day_score`'s score, by oxygen

    def first_due(self, at: float) -> float:
        """The evaluation of the hour a set at `at` belongs to: the first H:00 + grace ≥ at."""
        hour = math.ceil((at - self.grace_s) / 3600)
        return hour * 3600 + self.grace_s

    def evaluate(self, patient: Patient, at: float, news2: int, on_oxygen: bool, risk_period: bool = False) -> None:
        """Score the hour due at `at` and step the machines; leaves the next deadline.
        In a CRS risk period the temperature's contributions are left out (unless configured
        otherwise): the ASTCT grade owns the fever there, and counting it twice made every
        febrile grade-1 patient whose fever dipped below 38 °C a `high`."""
        state = patient.deterioration
        if state is None:
            state = patient.deterioration = AlertState.new()
        hour = int(round((at - self.grace_s) / 3600))
        key = (patient.patient_id, hour, on_oxygen, risk_period)
        scored = None if self.scores is None else self.scores.get(key)
        if scored is None:
            if self.least > 0 and patient.window.hours_holding_data(hour * 60, HOURS) <= HOURS - WORST_H:
                scored = self.quiet_half_day_score(on_oxygen)
            else:
                # The day's hourly medians of the columns the features read, each hour computed
                # from the window's minutes only while it can still change (Window.hour_medians).
                hours = patient.window.hour_medians(hour * 60, HOURS, CHANNEL_COLUMNS)
                # The score every hour; the reasons only when a level is open after the step, the
                # one time they are kept (most patient-hours score without an open level).
                scored = score_moment(self.model, compute_hours(hours, on_oxygen))
            if risk_period and not self.fever_in_risk_period:
                scored = without(scored, "temperature")
            if self.scores is not None:
                self.scores[key] = scored
        state.step(scored.score, self.dynamics, news2)
        state.hour = hour
        if state.medium.open or state.high.open:
            floor = self.dynamics.news2_high_floor
            floored = (f"NEWS2 {news2} (≥ {floor}: emergency response, RCP 2017)",) if floor and news2 >= floor else ()
            patient.deterioration_reasons = (
                (f"deterioration score {scored.score:.2f}",)
                + floored
                + reasons(self.model, scored, self.top, self.least)
            )
        newest = max((t for t in patient.newest_at if t is not None), default=-math.inf)
        settled = not state.medium.open and not state.high.open and state.medium.run == 0 and state.high.run == 0
        if settled and newest < at - HOURS * 3600:
            patient.deterioration_due = math.inf  # a day without data: nothing left to score
        else:
            patient.deterioration_due = (hour + 1) * 3600 + self.grace_s

    def quiet_half_day_score(self, on_oxygen: bool) -> Scored:
        """The score of an hour whose last 12 h hold no vital sign: every feature reads those
        hours (no current value, worst, trend or change from baseline without them: see
        features._moment), so each is 0 but supplemental oxygen's, and the score depends on the
        oxygen alone. Half the hours a patient is scored after its last set are such (24 are
        scored), a fifth of all the hourly evaluations of hourly-charted stays; each was the
        window's day of hourly medians and the features of it, for this constant.

        Its moment is that of a day without data: the same features, scores and parts, and the
        same current, worst and trend (none); only the baseline, quoted in no reason when no
        feature of it contributes, is left out. Hence only with `least` > 0: a reason is worded
        for a measurement contributing at least `least` (model.reasons)."""
        scored = self._quiet.get(on_oxygen)
        if scored is None:
            empty = [(math.nan,) * len(CHANNEL_COLUMNS)] * HOURS
            scored = self._quiet[on_oxygen] = score_moment(self.model, compute_hours(empty, on_oxygen))
        return scored

    def level(self, patient: Patient) -> Level | None:
        """The rule's finding now: the severity its machines hold, with the last reasons."""
        state = patient.deterioration
        if state is None:
            return None
        name = "high" if state.high.open else "medium" if state.medium.open else None
        if name is None:
            return None
        reasons = patient.deterioration_reasons
        return Level(self.severities[name], None, lambda: reasons, at_once=True)

    def restored(self, patient: Patient) -> None:
        """The derived deadline of a patient read back from its bytes."""
        state = patient.deterioration
        if state is not None:
            patient.deterioration_due = (state.hour + 1) * 3600 + self.grace_s
