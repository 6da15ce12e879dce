"""Cohort evaluation: a simulated ward with realistic artifacts through the engine, in event time.

Run:  .venv/bin/python -m bench.cohort [--patients 200] [--days 3] [--seed 1] [--config FILE]
      [--busy-share 0.2]

The simulator (simulator/) writes each patient's ground truth from the data it generated
(docs/simulator.md); the engine sees only the messages. Every event is passed to
`Engine.observe` in event order, and `Engine.advance_to` is called at every simulated minute
boundary, as the worker's timer does. What the script prints, and how alerts are matched:

Alerts that count. An alert "counts" when its status is `firing` or `updated` and its severity
is `medium` or above. `low` (technical conditions: signal loss) and `resolved` never count.

Episode window. A patient with a course (CRS or other deterioration) has a window from
`deterioration_start` − 1 h (the simulator's physiology starts changing at that time; an hour's
slack for the noise of the minutes before it) to `deterioration_end` + 6 h (physiology back at
baseline as planned, plus the engine's hysteresis). Stable patients have no window.

True and false alerts. A counting alert is true when its patient has a window and either its
`observed_at` lies inside the window or its episode fired inside the window (every later
change of an episode opened by a true deterioration belongs to it). Every other counting alert
is false.
- false alerts per stable patient-day = false counting alerts of stable patients / their
  monitored days (target ≤ 0.02, issue 12; it was ≤ 0.1); also shown for the time outside
  windows of all patients.
- the merely busy (issue 12, outcome 3): the same rate separately for busy stable patients (the
  simulator's `busy_share`: walks or physiotherapy, truth `bouts`) and for the other stable
  patients, and how many of the busy patients' false alerts were observed during a bout or
  within 30 minutes after its end (`BOUT_TAIL`); also the busy patients of every kind outside
  their windows.

CRS courses (kind `crs`):
- alerted at the first febrile reading: after the engine has seen every message up to and
  including the second of `crs_onset_at`, the patient has an open episode (last change not
  `resolved`) of severity medium or above that fired inside the window (target 100 %);
- escalated in time (courses whose data meet the grade-2 criteria, `grade2_at`): the first
  counting alert of severity high or above inside the window is observed no later than
  `grade2_at` + one measurement cycle, the cadence of the source whose reading met the
  criteria (`grade2_cycle_s`: NIBP cycle in force, numerics interval, or the nurse round)
  (target 100 %). Lag = that alert's time − `grade2_at` (negative is early);
- early warning = `grade2_at` − first high alert, in hours (also for the first counting alert);
- the cost of early warning: the share of courses that never meet the grade-2 criteria in the
  data and yet are escalated to high (their warning was not followed by grade 2);
- firings per course = `firing` alerts of severity medium or above inside the window, all rules
  together (what a nurse's pager sees; target ≤ 1), and of the `crs` rule alone.

Non-CRS deterioration (kind `other_deterioration`), against `urgent_at`, the first reading that
scores 3 on its own in NEWS2 (an urgent ward review): share alerted at all inside the window,
share alerted no later than `urgent_at`, early warning = `urgent_at` − first counting alert and
− first high alert, in hours, and firings per course as above.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from monitor.config import load_config
from monitor.engine import Engine
from monitor.rules.registry import RULES
from monitor.wire import SEVERITY_RANK, Alert, PatientStatus
from simulator import GroundTruth, Simulation, SimulationSettings

WINDOW_LEAD = timedelta(hours=1)
WINDOW_TAIL = timedelta(hours=6)
BOUT_TAIL = timedelta(minutes=30)  # an alert this soon after a bout ends is the bout's
MEDIUM, HIGH = SEVERITY_RANK["medium"], SEVERITY_RANK["high"]
DAY_S = 86_400.0
REPO = Path(__file__).resolve().parent.parent


# -- running ---------------------------------------------------------------------------------
@dataclass
class Run:
    alerts: list[Alert] = field(default_factory=list)
    messages: int = 0
    wall_s: float = 0.0
    engine_s: float = 0.0
    #: (patient, event time, "icans" | "aki") -> the engine's grade or stage in the first status
    #: at or after that neuro assessment or creatinine result; None when the status has no such part.
    organ: dict[tuple[str, datetime, str], int | None] = field(default_factory=dict)
    #: Messages by ClinicalEvent type (lab, neuro, ...) and "vitals".
    kinds: dict[str, int] = field(default_factory=dict)


class OrganSamples:
    """What the engine said about ICANS and the kidney after each neuro assessment and each
    creatinine result: the first status of that patient at or after the event's time (a status
    follows a clinical event, or comes with the next vitals at the latest)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.pending: dict[str, list[tuple[datetime, str]]] = {}

    def expect(self, event) -> None:
        kind = {"neuro": "icans", "lab": "aki"}.get(getattr(event, "type", ""))
        if kind == "aki" and event.test != "creatinine":
            return
        if kind is not None:
            self.pending.setdefault(event.patient_id, []).append((event.ts, kind))

    def take(self, statuses: list[PatientStatus]) -> None:
        for status in statuses:
            waiting = self.pending.get(status.patient_id)
            if not waiting:
                continue
            left = []
            for at, kind in waiting:
                if status.ts >= at:
                    self.run.organ[(status.patient_id, at, kind)] = _organ_value(status, kind)
                else:
                    left.append((at, kind))
            self.pending[status.patient_id] = left


def _organ_value(status: PatientStatus, kind: str) -> int | None:
    part = getattr(status, "icans" if kind == "icans" else "kidney", None)
    if part is None:
        return None
    value = getattr(part, "grade" if kind == "icans" else "aki_stage", None)
    return None if value is None else int(value)


def run_cohort(simulation: Simulation, engine: Engine, tick: timedelta = timedelta(minutes=1)) -> Run:
    """Every message into the engine in event time, with a timer tick at each `tick` boundary."""
    run = Run()
    samples = OrganSamples(run)
    start = simulation.settings.start
    next_tick = start + tick
    clock = time.perf_counter
    began = clock()
    for event in simulation.events():
        while event.ts >= next_tick:
            t0 = clock()
            outputs = engine.advance_to(next_tick)
            run.engine_s += clock() - t0
            run.alerts.extend(outputs.alerts)
            samples.take(outputs.statuses)
            next_tick += tick
        samples.expect(event)
        t0 = clock()
        outputs = engine.observe(event)
        run.engine_s += clock() - t0
        run.alerts.extend(outputs.alerts)
        samples.take(outputs.statuses)
        run.messages += 1
        kind = getattr(event, "type", "vitals")
        run.kinds[kind] = run.kinds.get(kind, 0) + 1
    end = start + timedelta(seconds=simulation.settings.window_s)
    while next_tick <= end:
        outputs = engine.advance_to(next_tick)
        run.alerts.extend(outputs.alerts)
        samples.take(outputs.statuses)
        next_tick += tick
    run.wall_s = clock() - began
    return run


# -- matching --------------------------------------------------------------------------------
def counts(alert: Alert) -> bool:
    return alert.status in ("firing", "updated") and SEVERITY_RANK[alert.severity] >= MEDIUM


def window_of(truth: GroundTruth) -> tuple[datetime, datetime] | None:
    if truth.deterioration_start is None:
        return None
    end = truth.deterioration_end or truth.monitored_to
    return truth.deterioration_start - WINDOW_LEAD, end + WINDOW_TAIL


@dataclass
class PatientAlerts:
    """One patient's alerts, split by the matching rules. The `icans` and `aki` rules watch
    other organs than the deterioration windows do: their alerts are kept apart in `organ` and
    matched against the ICANS and AKI truth (`organ_figures`)."""

    truth: GroundTruth
    alerts: list[Alert]
    true: list[Alert] = field(default_factory=list)
    false: list[Alert] = field(default_factory=list)
    organ: list[Alert] = field(default_factory=list)

    def __post_init__(self) -> None:
        window = window_of(self.truth)
        fired_inside: set[str] = set()
        for alert in self.alerts:
            inside = window is not None and window[0] <= alert.observed_at <= window[1]
            if inside and alert.status == "firing":
                fired_inside.add(alert.episode_id)
            if not counts(alert):
                continue
            if inside or alert.episode_id in fired_inside:
                self.true.append(alert)
            else:
                self.false.append(alert)

    def first_true(self, rank: int) -> Alert | None:
        return next((a for a in self.true if SEVERITY_RANK[a.severity] >= rank), None)

    def firings(self, rule: str | None = None) -> int:
        return sum(1 for a in self.true if a.status == "firing" and (rule is None or a.rule == rule))

    def open_at(self, moment: datetime) -> bool:
        """An episode of severity medium or above, fired inside the window, open at `moment`."""
        window = window_of(self.truth)
        fired: dict[str, datetime] = {}
        state: dict[str, Alert] = {}
        for alert in self.alerts:
            if alert.observed_at > moment:
                break
            if alert.status == "firing":
                fired[alert.episode_id] = alert.observed_at
            state[alert.episode_id] = alert
        return any(
            last.status != "resolved"
            and SEVERITY_RANK[last.severity] >= MEDIUM
            and window is not None
            and window[0] <= fired.get(episode, window[0] - WINDOW_LEAD)
            for episode, last in state.items()
        )


def split_by_patient(truths: list[GroundTruth], alerts: list[Alert]) -> list[PatientAlerts]:
    by_patient: dict[str, list[Alert]] = {truth.patient_id: [] for truth in truths}
    organ: dict[str, list[Alert]] = {truth.patient_id: [] for truth in truths}
    for alert in alerts:
        (organ if alert.rule in ORGAN_RULE_NAMES else by_patient).setdefault(alert.patient_id, []).append(alert)
    for patient_alerts in (*by_patient.values(), *organ.values()):
        patient_alerts.sort(key=lambda a: a.observed_at)  # stable: processing order within a second
    return [PatientAlerts(truth, by_patient[truth.patient_id], organ=organ[truth.patient_id]) for truth in truths]


# -- figures ---------------------------------------------------------------------------------
def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


def describe(values: list[float], unit: str) -> str:
    if not values:
        return "n/a"
    return (
        f"median {statistics.median(values):.1f} {unit}, mean {statistics.fmean(values):.1f}, "
        f"min {min(values):.1f}, max {max(values):.1f} (n={len(values)})"
    )


def share(hit: int, total: int) -> str:
    return f"{hit}/{total} = {100.0 * hit / total:.0f} %" if total else "n/a (none in this cohort)"


@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)


def evaluate(patients: list[PatientAlerts]) -> Figures:
    figures = Figures()
    stable = [p for p in patients if p.truth.kind == "stable"]
    stable_days = sum((p.truth.monitored_to - p.truth.monitored_from).total_seconds() for p in stable) / DAY_S
    false_stable = sum(len(p.false) for p in stable)
    rules: dict[str, int] = {}
    for p in stable:
        for alert in p.false:
            rules[f"{alert.rule}/{alert.severity}"] = rules.get(f"{alert.rule}/{alert.severity}", 0) + 1
    rate = false_stable / stable_days if stable_days else float("nan")
    figures.say(f"stable patients: {len(stable)}, {stable_days:.1f} patient-days")
    figures.say(
        f"  false alerts (medium+): {false_stable} = {rate:.3f} per stable patient-day "
        f"(target <= 0.02); by rule/severity: {dict(sorted(rules.items())) or '-'}"
    )
    outside_days = sum(_days_outside_window(p.truth) for p in patients)
    false_all = sum(len(p.false) for p in patients)
    figures.say(
        f"  all patients outside deterioration windows: {false_all} false alerts in "
        f"{outside_days:.1f} patient-days = {false_all / outside_days if outside_days else 0:.3f} per day"
    )
    _busy_figures(figures, patients)
    _crs_figures(figures, [p for p in patients if p.truth.kind == "crs"])
    _other_figures(figures, [p for p in patients if p.truth.kind == "other_deterioration"])
    return figures


ORGAN_RULES = (("icans", "ICANS grade", "icans"), ("aki", "AKI stage", "aki"))
#: Rules of their own organ (ICANS, kidney), with their technical companion: not matched
#: against the deterioration windows (see PatientAlerts).
ORGAN_RULE_NAMES = frozenset({"icans", "aki", "neuro_overdue"})


def organ_figures(figures: Figures, patients: list[PatientAlerts], organ: dict) -> None:
    """ICANS grade and AKI stage agreement with the truth (issues 20 and 21), and false `icans`
    and `aki` alerts per control patient-day. Neither part nor rule needs to exist: a status
    without `icans`/`kidney` reads "not available", an unregistered rule "not registered"."""
    truths = [p.truth for p in patients]
    if not any(t.icans or t.aki for t in truths):
        figures.say("labs and ICANS: none in this ward (labs_and_neuro off)")
        return
    icans = [t for t in truths if t.icans_planned_grade]
    figures.say(
        f"ICANS courses: {len(icans)} planned "
        f"(planned grade {dict(sorted(_tally(t.icans_planned_grade for t in icans).items()))}; "
        f"kinds {dict(sorted(_tally(t.kind for t in icans).items()))}); "
        f"AKI: {sum(t.aki_planned for t in truths)} planned, true max stage "
        f"{dict(sorted(_tally(t.aki_max_stage for t in truths).items()))}"
    )
    for kind, label, _ in ORGAN_RULES:
        pairs = [
            (truth_value, organ.get((t.patient_id, at, kind)))
            for t in truths
            for at, truth_value in (t.icans if kind == "icans" else t.aki)
        ]
        engine_values = [value for _, value in pairs if value is not None]
        if not engine_values:
            figures.say(
                f"  {label} agreement: not available (no status carries "
                f"{'icans.grade' if kind == 'icans' else 'kidney.aki_stage'}; {len(pairs)} truth points)"
            )
            continue
        known = [(truth, engine) for truth, engine in pairs if engine is not None]
        exact = sum(truth == engine for truth, engine in known)
        ill = [(truth, engine) for truth, engine in known if truth > 0]
        figures.say(
            f"  {label} agreement: {share(exact, len(known))} of {len(pairs)} points exact; "
            f"where the truth is >= 1: {share(sum(t == e for t, e in ill), len(ill))}; "
            f"engine lower {sum(e < t for t, e in known)}, higher {sum(e > t for t, e in known)}; "
            f"truth/engine pairs {dict(sorted(_tally(known).items()))}"
        )
    controls = [
        p
        for p in patients
        if p.truth.kind == "stable"
        and p.truth.icans_max_grade == 0
        and p.truth.icans_planned_grade == 0
        and p.truth.aki_max_stage == 0
    ]
    days = sum((p.truth.monitored_to - p.truth.monitored_from).total_seconds() for p in controls) / DAY_S
    for _, _, rule in ORGAN_RULES:
        if rule not in RULES:
            figures.say(f"  false {rule} alerts per control patient-day: rule {rule!r} not registered")
            continue
        fired = [a for p in controls for a in p.organ if a.rule == rule and a.status == "firing"]
        figures.say(
            f"  false {rule} alerts (firing) per control patient-day: {len(fired)} in {days:.1f} days "
            f"({len(controls)} stable patients without ICANS or AKI) = "
            f"{len(fired) / days if days else 0:.3f}; "
            f"by severity {dict(sorted(_tally(a.severity for a in fired).items()))}"
        )
        _organ_courses(figures, patients, rule)


def _organ_courses(figures: Figures, patients: list[PatientAlerts], rule: str) -> None:
    """Courses whose data show ICANS grade >= 1 (AKI stage >= 1) and got a counting alert of the
    rule from an hour before the first such point on; counting alerts of the rule on patients
    whose data never show it, per patient-day (every kind, not only controls)."""

    def points(t: GroundTruth) -> tuple[tuple[datetime, int], ...]:
        return t.icans if rule == "icans" else t.aki

    def first_abnormal(t: GroundTruth) -> datetime:
        return next(at for at, value in points(t) if value > 0)

    ill = [p for p in patients if any(value > 0 for _, value in points(p.truth))]
    # From the first abnormal point (an assessment graded >= 1, a creatinine staged >= 1) to the
    # rule's first counting alert: 0 when the alert comes with that assessment or result.
    lags = {
        id(p): min(
            (
                (a.observed_at - first_abnormal(p.truth)).total_seconds() / 60
                for a in p.organ
                if counts(a) and a.rule == rule and a.observed_at >= first_abnormal(p.truth) - WINDOW_LEAD
            ),
            default=None,
        )
        for p in ill
    }
    alerted = [p for p in ill if lags[id(p)] is not None]
    well = [p for p in patients if p not in ill]
    days = sum((p.truth.monitored_to - p.truth.monitored_from).total_seconds() for p in well) / DAY_S
    false = sum(counts(a) and a.rule == rule for p in well for a in p.organ)
    figures.say(
        f"  {rule}: courses whose data show it alerted (medium+): {share(len(alerted), len(ill))}; "
        f"medium+ changes on patients whose data never show it: {false} in {days:.1f} days = "
        f"{false / days if days else 0:.3f} per patient-day"
    )
    figures.say(
        f"  {rule}: from the first abnormal point in the data to the first alert (minutes; 0: with "
        f"that very assessment or result): "
        f"{describe([lag for p in alerted if (lag := lags[id(p)]) is not None], 'min')}"
    )


def near_a_bout(truth: GroundTruth, alert: Alert) -> bool:
    """Observed during a bout of exercise or within `BOUT_TAIL` after its end."""
    return any(start <= alert.observed_at <= end + BOUT_TAIL for start, end in truth.bouts)


def _false_rate(group: list[PatientAlerts], days: float) -> str:
    false = sum(len(p.false) for p in group)
    near = sum(near_a_bout(p.truth, a) for p in group for a in p.false)
    rules: dict[str, int] = {}
    for p in group:
        for alert in p.false:
            rules[f"{alert.rule}/{alert.severity}"] = rules.get(f"{alert.rule}/{alert.severity}", 0) + 1
    rate = f"{false / days:.3f}" if days else "n/a"
    return (
        f"{false} = {rate} per patient-day, {near} of them during a bout or within "
        f"{BOUT_TAIL.total_seconds() / 60:.0f} min after it; by rule/severity: {dict(sorted(rules.items())) or '-'}"
    )


def _busy_figures(figures: Figures, patients: list[PatientAlerts]) -> None:
    busy = [p for p in patients if p.truth.busy]
    bouts = sum(len(p.truth.bouts) for p in busy)
    figures.say(
        f"busy patients (walks or physiotherapy): {len(busy)} "
        f"({dict(sorted(_tally(p.truth.kind for p in busy).items()))}), {bouts} bouts"
    )
    for label, group in (
        ("busy stable", [p for p in busy if p.truth.kind == "stable"]),
        ("other stable", [p for p in patients if p.truth.kind == "stable" and not p.truth.busy]),
    ):
        days = sum((p.truth.monitored_to - p.truth.monitored_from).total_seconds() for p in group) / DAY_S
        figures.say(
            f"  {label}: {len(group)} patients, {days:.1f} patient-days; false alerts (medium+): "
            f"{_false_rate(group, days)} (target <= 0.02)"
        )
    days = sum(_days_outside_window(p.truth) for p in busy)
    figures.say(
        f"  busy patients of every kind outside deterioration windows ({days:.1f} patient-days): "
        f"{_false_rate(busy, days)}"
    )


def _days_outside_window(truth: GroundTruth) -> float:
    monitored = (truth.monitored_to - truth.monitored_from).total_seconds()
    window = window_of(truth)
    if window is None:
        return monitored / DAY_S
    overlap = (min(window[1], truth.monitored_to) - max(window[0], truth.monitored_from)).total_seconds()
    return (monitored - max(overlap, 0.0)) / DAY_S


def _firings(figures: Figures, courses: list[PatientAlerts], rule: str | None) -> None:
    counts_all = [p.firings() for p in courses]
    line = (
        f"  firings per course, all rules: mean {statistics.fmean(counts_all):.2f}, "
        f"max {max(counts_all)} (target <= 1; courses with > 1: {sum(c > 1 for c in counts_all)})"
    )
    if rule:
        counts_rule = [p.firings(rule) for p in courses]
        line += f"; rule {rule} alone: mean {statistics.fmean(counts_rule):.2f}, max {max(counts_rule)}"
    figures.say(line)


def _crs_figures(figures: Figures, courses: list[PatientAlerts]) -> None:
    figures.say(
        f"CRS courses: {len(courses)} (max grade in the data: "
        f"{dict(sorted(_tally(p.truth.max_grade for p in courses).items()))})"
    )
    if not courses:
        return
    onset = [(p, at) for p in courses if (at := p.truth.crs_onset_at) is not None]
    alerted = [p for p, at in onset if p.open_at(at)]
    figures.say(f"  alerted at the first febrile reading: {share(len(alerted), len(onset))} (target 100 %)")
    for p, _ in onset:
        if p not in alerted:
            figures.misses.append(f"no open medium+ episode at first fever: {_who(p)}")
    grade2 = [(p, at) for p in courses if (at := p.truth.grade2_at) is not None]
    on_time, lags, early_high, early_any = 0, [], [], []
    for p, grade2_at in grade2:
        high = p.first_true(HIGH)
        first = p.first_true(MEDIUM)
        if first is not None:
            early_any.append(hours(grade2_at - first.observed_at))
        if high is None:
            figures.misses.append(f"never escalated to high: {_who(p)}")
            continue
        lag = high.observed_at - grade2_at
        lags.append(lag.total_seconds() / 60.0)
        early_high.append(-hours(lag))
        if lag <= timedelta(seconds=p.truth.grade2_cycle_s or 0):
            on_time += 1
        else:
            figures.misses.append(
                f"high {lag.total_seconds() / 60:.0f} min after grade 2 (cycle {p.truth.grade2_cycle_s} s): {_who(p)}"
            )
    figures.say(
        f"  grade-2 courses escalated to high within one measurement cycle: "
        f"{share(on_time, len(grade2))} (target 100 %)"
    )
    figures.say(f"  lag of the first high alert after grade 2 (minutes): {describe(lags, 'min')}")
    figures.say(f"  early warning before grade 2, first high alert: {describe(early_high, 'h')}")
    figures.say(f"  early warning before grade 2, first medium+ alert: {describe(early_any, 'h')}")
    mild = [p for p in courses if p.truth.grade2_at is None]
    raised = [p for p in mild if p.first_true(HIGH) is not None]
    figures.say(
        f"  the cost: courses that never met grade 2 yet were escalated to high: {share(len(raised), len(mild))}"
    )
    _firings(figures, courses, "crs")


def _other_figures(figures: Figures, courses: list[PatientAlerts]) -> None:
    figures.say(
        f"non-CRS deterioration: {len(courses)} ({dict(sorted(_tally(p.truth.course for p in courses).items()))})"
    )
    if not courses:
        return
    alerted = [p for p in courses if p.first_true(MEDIUM) is not None]
    urgent = [(p, at) for p in courses if (at := p.truth.urgent_at) is not None]
    in_time = [p for p, at in urgent if (a := p.first_true(MEDIUM)) and a.observed_at <= at]
    figures.say(
        f"  alerted (medium+) at all: {share(len(alerted), len(courses))}; "
        f"no later than the first NEWS2 single-3 reading: {share(len(in_time), len(urgent))}"
    )
    early_any = [hours(at - a.observed_at) for p, at in urgent if (a := p.first_true(MEDIUM))]
    early_high = [hours(at - a.observed_at) for p, at in urgent if (a := p.first_true(HIGH))]
    figures.say(f"  warning before the first single-3 reading, first medium+ alert: {describe(early_any, 'h')}")
    figures.say(f"  warning before the first single-3 reading, first high alert: {describe(early_high, 'h')}")
    for p in courses:
        if p not in alerted:
            figures.misses.append(f"deterioration never alerted: {_who(p)}")
    _firings(figures, courses, None)


def _tally(values) -> dict:
    tally: dict = {}
    for value in values:
        tally[value] = tally.get(value, 0) + 1
    return tally


def _who(p: PatientAlerts) -> str:
    t = p.truth
    return f"{t.patient_id} ({t.course}, max grade {t.max_grade})"


def engine_revision() -> str:
    """The commit the engine was measured at, and whether monitor/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "monitor"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return f"unknown ({REPO} is not a git checkout)"
    return f"{head}{' + uncommitted changes in monitor/' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--numerics-interval", type=int, default=60, metavar="SECONDS")
    parser.add_argument("--config", help="clinical configuration JSON for the engine")
    parser.add_argument(
        "--busy-share",
        type=float,
        default=SimulationSettings().busy_share,
        help="share of patients who walk or do physiotherapy (the simulator's default)",
    )
    parser.add_argument("--misses", type=int, default=15, help="how many misses to list (default 15)")
    parser.add_argument(
        "--no-labs-neuro",
        action="store_true",
        help="leave out lab results, neuro assessments and ICANS steroids (the ward before them)",
    )
    args = parser.parse_args(argv)
    settings = SimulationSettings(
        patients=args.patients,
        days=args.days,
        seed=args.seed,
        numerics_interval_s=args.numerics_interval,
        busy_share=args.busy_share,
        labs_and_neuro=not args.no_labs_neuro,
    )
    simulation = Simulation(settings)
    run = run_cohort(simulation, Engine(load_config(args.config)))
    truths = simulation.truths
    patients = split_by_patient(truths, run.alerts)
    figures = evaluate(patients)
    organ_figures(figures, patients, run.organ)
    print(
        f"cohort: {settings.patients} patients x {settings.days:g} days, seed {settings.seed}, "
        f"numerics every {settings.numerics_interval_s} s, artifacts at default rates, "
        f"busy share {settings.busy_share:g}; engine config: {args.config or 'defaults'}"
    )
    print(
        f"engine: {engine_revision()}; {run.messages} messages, {len(run.alerts)} alerts; "
        f"{run.wall_s:.1f} s wall (simulation + engine), {run.engine_s:.1f} s in the engine = "
        f"{run.messages / run.engine_s if run.engine_s else float('nan'):,.0f} messages/s"
    )
    print(f"messages by type: {dict(sorted(run.kinds.items()))}")
    for line in figures.lines:
        print(line)
    if figures.misses:
        print(f"misses ({len(figures.misses)}; first {min(args.misses, len(figures.misses))}):")
        for line in figures.misses[: args.misses]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
