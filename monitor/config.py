"""Clinical settings: every threshold with its default and the guideline it comes from.

A hospital may change a default (its alarm policy is its own, NPSG.06.01.01 asks that it be
explicit); it may not lose the record of where the default came from. So each setting carries
its source in the schema, and `crsmon config` prints them side by side.

Sources marked "judgement" are choices this project made where the literature is silent; each
is explained in docs/clinical-reference.md.
"""

from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.wire.vitals import MEASUREMENTS

Severity = Literal["critical", "high", "medium", "low"]

ASTCT = "ASTCT 2019 (Lee et al.)"
RCP = "NEWS2 (RCP 2017)"
JUDGEMENT = "judgement, see docs/clinical-reference.md"
KDIGO = "KDIGO 2012"
CTCAE = "CTCAE v5 (NCI 2017)"
LOCAL_LIMIT = "the local laboratory's; default a common adult reference limit"


def setting(default: Any, source: str, unit: str = "") -> Any:
    """A configurable value that remembers where its default came from."""
    return Field(default, json_schema_extra={"source": source, "unit": unit})


class EngineConfig(BaseModel):
    """Thresholds and timings of the clinical engine. Defaults cite docs/clinical-reference.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- ASTCT grading -------------------------------------------------------------------
    fever_celsius: float = setting(38.0, f"{ASTCT}: fever is temperature ≥ 38.0 °C", "°C")
    hypotension_systolic_mmhg: float = setting(
        90.0, f"{ASTCT}, provisional grading: hypotension is systolic BP < 90 mmHg", "mmHg"
    )
    hypotension_map_mmhg: float = setting(
        65.0, f"{ASTCT}, provisional grading: or mean arterial pressure < 65 mmHg", "mmHg"
    )
    hypoxia_spo2_percent: float = setting(93.0, f"{ASTCT}, provisional grading: hypoxia is SpO2 ≤ 93 % on air", "%")
    low_flow_max_l_min: float = setting(
        6.0, f"{ASTCT}, grade 2: low-flow nasal cannula ≤ 6 L/min; above is grade 3", "L/min"
    )
    risk_period_days: float = setting(14.0, "Registry data: new CRS after day 14 is rare (0 of 475 patients)", "days")
    antipyretic_lifts_fever_h: float = setting(
        6.0, f"{ASTCT}: antipyretics lift the fever requirement; duration is a {JUDGEMENT}", "h"
    )
    anticytokine_lifts_fever_h: float = setting(
        336.0,
        f"{ASTCT}: tocilizumab, siltuximab, corticosteroids lift the fever requirement; "
        f"for the rest of a 14-day risk period is a {JUDGEMENT}",
        "h",
    )

    # -- NEWS2 response thresholds (the chart itself is fixed: monitor/scores/news2.py) -----
    news2_key_threshold: int = setting(5, f"{RCP}: 5–6 is the key threshold, urgent clinical review")
    news2_emergency_threshold: int = setting(7, f"{RCP}: ≥ 7 calls an emergency response")
    news2_single_parameter_red: int = setting(3, f"{RCP}: a single parameter scoring 3, urgent ward review")

    # -- other scores ----------------------------------------------------------------------
    shock_index_abnormal: float = setting(
        1.0, "Shock index (Allgöwer & Burri 1967): ≥ 1.0 is abnormal and predictive of mortality"
    )
    qsofa_respiratory_rate: float = setting(
        22.0, "qSOFA (Sepsis-3, Singer et al. 2016): respiratory rate ≥ 22/min", "/min"
    )
    qsofa_systolic_mmhg: float = setting(100.0, "qSOFA (Sepsis-3, Singer et al. 2016): systolic BP ≤ 100 mmHg", "mmHg")

    # -- severity policy (IEC 60601-1-8 priorities) ---------------------------------------
    crs_grade_1_severity: Severity = setting("medium", "crsmon severity policy (issue 3): CRS grade 1 → medium")
    crs_grade_2_severity: Severity = setting("high", "crsmon severity policy (issue 3): CRS grade 2 → high")
    crs_grade_3_4_severity: Severity = setting("critical", "crsmon severity policy (issue 3): CRS grade 3–4 → critical")
    early_warning_severity: Severity = setting(
        "high", "crsmon severity policy (issue 3): an early warning in a febrile risk-period patient → high"
    )
    news2_within_crs_episode: bool = setting(
        True,
        f"{JUDGEMENT}: in the CRS risk period (and while a CRS episode is open) NEWS2 "
        "findings without a CRS grade open or keep the crs episode at NEWS2's severity, so a "
        "CRS course is one episode however it starts; the news2 rule watches everyone else",
    )
    news2_single_parameter_severity: Severity = setting(
        "medium", f"crsmon severity policy (issue 3) after {RCP}: a single parameter 3 → medium"
    )
    news2_key_threshold_severity: Severity = setting(
        "high", f"crsmon severity policy (issue 3) after {RCP}: NEWS2 5–6 → high"
    )
    news2_emergency_severity: Severity = setting(
        "critical", f"crsmon severity policy (issue 3) after {RCP}: NEWS2 ≥ 7 → critical"
    )
    signal_loss_severity: Severity = setting(
        "low", "IEC 60601-1-8: technical conditions such as signal loss are low priority"
    )

    # -- ICANS (issue 21) ------------------------------------------------------------------
    icans_rule: bool = setting(
        True,
        f"{ASTCT}: ICANS is graded beside CRS, never folded into it; a hospital that does not "
        "chart ICE into crsmon may switch the icans and neuro_overdue rules off",
    )
    icans_watch_days: float = setting(
        28.0,
        "Course of neurotoxicity (ZUMA-1: median onset day 4, range 1–43; new ICANS after day 14 in "
        f"0.7 % of 475 patients, Blood Adv 2024): ICANS starts later and lasts longer than CRS; "
        f"twice CRS's 14 days, to catch the late onsets and follow a course to its end, is a {JUDGEMENT}",
        "days",
    )
    icans_grade_1_severity: Severity = setting(
        "medium", "crsmon severity policy (issue 21): ICANS grade 1 → medium, as CRS grade 1"
    )
    icans_grade_2_severity: Severity = setting(
        "high", "crsmon severity policy (issue 21): ICANS grade 2 → high, as CRS grade 2"
    )
    icans_grade_3_4_severity: Severity = setting(
        "critical", "crsmon severity policy (issue 21): ICANS grade 3–4 → critical, as CRS grade 3–4"
    )
    icans_ice_fall_points: int = setting(
        2,
        "issue 21 after CARTOX (Neelapu 2018: handwriting changes first): an ICE this many points "
        f"below the patient's own best since therapy is a finding at any grade, a {JUDGEMENT}",
        "points",
    )
    icans_ice_fall_severity: Severity = setting(
        "medium",
        "crsmon severity policy (issue 21): an ICE fall from the patient's best opens at "
        "least medium, even at grade 0–1",
    )
    icans_downgrade_after_h: float = setting(
        0.0,
        f"{ASTCT}: a newer assessment replaces the older; assessments are discrete, with no "
        f"sensor noise to wait out, so a lower grade is published with the assessment ({JUDGEMENT})",
        "h",
    )
    icans_resolve_after_h: float = setting(
        24.0,
        f"{JUDGEMENT}: ICANS fluctuates; grade 0 must hold for two routine assessments "
        "(8–12 h apart) before the episode ends, so a relapse on steroid taper is one episode",
        "h",
    )
    neuro_overdue_after_h: float = setting(
        12.0,
        "issue 21: wards chart ICE every 8–12 h in the watch; no assessment for longer is a technical finding",
        "h",
    )
    neuro_overdue_severity: Severity = setting(
        "low", "IEC 60601-1-8: a technical condition (a missing assessment, as signal loss) is low priority"
    )

    # -- the window ------------------------------------------------------------------------
    window_hours: int = setting(24, "issue 3: per-minute aggregates for at least 24 hours", "h")
    lateness_s: float = setting(
        300.0, "issue 3: events up to 5 minutes late are placed; older ones are counted and ignored", "s"
    )
    future_tolerance_s: float = setting(
        300.0,
        "issue 19: a record dated more than this after the machine's clock is refused "
        "(dead-lettered): a device clock running ahead would otherwise hide every later reading "
        "behind it; a jump within it blinds a patient no longer than the jump",
        "s",
    )
    raw_rows_max: int = setting(512, f"memory bound (≤ 64 KB a patient, issue 3); {JUDGEMENT}", "observation sets")
    carry_forward_min: float = setting(
        240.0,
        f"{JUDGEMENT}: one ward observation round (RCP 2017: at least 4-hourly for NEWS2 1–4)",
        "min",
    )
    status_interval_s: float = setting(
        60.0, "Wire contract: PatientStatus at least once a minute while vitals flow", "s"
    )

    # -- labs --------------------------------------------------------------------------------
    lab_history_days: float = setting(
        14.0,
        "KDIGO 2012: the creatinine baseline is the lowest of the 7 days before a reading; "
        f"kept for the 14-day CRS risk period so a trend since therapy has its start ({JUDGEMENT})",
        "days",
    )
    lab_history_max: int = setting(
        64,
        f"{JUDGEMENT}: results kept per test — one every 6 h for 16 days, bounding memory "
        "(≈ 1 KB a test) when a feed sends far more often",
        "results",
    )

    # -- kidney: KDIGO 2012 staging by creatinine (monitor/kidney.py) -----------------------
    aki_baseline_days: float = setting(
        7.0,
        f"{KDIGO}, a rise to ≥ 1.5 × baseline known or presumed to have occurred within the "
        "prior 7 days; the baseline is the lowest creatinine of the 7 days before a reading (a "
        "common operationalisation, docs/clinical-reference.md)",
        "days",
    )
    aki_rise_window_h: float = setting(48.0, f"{KDIGO}, a rise in serum creatinine ≥ 0.3 mg/dL within 48 hours", "h")
    aki_rise_mg_dl: float = setting(
        0.3, f"{KDIGO}, a rise ≥ 0.3 mg/dL (26.5 µmol/L) within 48 h is AKI, stage 1", "mg/dL"
    )
    aki_stage_1_ratio: float = setting(1.5, f"{KDIGO}, stage 1 is 1.5–1.9 × baseline", "× baseline")
    aki_stage_2_ratio: float = setting(2.0, f"{KDIGO}, stage 2 is 2.0–2.9 × baseline", "× baseline")
    aki_stage_3_ratio: float = setting(3.0, f"{KDIGO}, stage 3 is ≥ 3.0 × baseline", "× baseline")
    aki_stage_3_creatinine_mg_dl: float = setting(
        4.0,
        f"{KDIGO}, stage 3 is also a creatinine ≥ 4.0 mg/dL (353.6 µmol/L) once AKI is "
        "present by the rise or the ratio (KDIGO's note: not a stable high value alone)",
        "mg/dL",
    )
    aki_rule: bool = setting(
        True,
        f"{KDIGO}, the aki rule alerts on the creatinine stage (rule 'aki'); false keeps "
        "the status's kidney part and opens no episode",
    )
    aki_stage_1_severity: Severity = setting(
        "medium", f"{KDIGO}, crsmon severity policy: stage 1 → medium (a closer look)"
    )
    aki_stage_2_severity: Severity = setting(
        "high", f"{KDIGO}, crsmon severity policy: stage 2 → high (a clinician reviews now)"
    )
    aki_stage_3_severity: Severity = setting(
        "high",
        f"{KDIGO}, crsmon severity policy: stage 3 → high, not critical: creatinine "
        "is hours old when it arrives and measures none of the complications that make AKI an "
        f"emergency (potassium, acidosis, fluid overload); a {JUDGEMENT}",
    )
    aki_downgrade_after_h: float = setting(
        24.0,
        f"{KDIGO}, stages follow each result; a lower stage must hold one daily draw this "
        f"long before the episode is downgraded, a {JUDGEMENT}",
        "h",
    )
    aki_resolve_after_h: float = setting(
        48.0,
        f"{KDIGO}, creatinine lags filtration by 24–48 h and is drawn about daily; no AKI "
        f"for 48 h (two daily draws) ends the episode, so one diluted or borderline result does "
        f"not end and reopen it (two pages for one AKI), a {JUDGEMENT}",
        "h",
    )

    # -- lab context: CTCAE v5 grades, inflammation trends, m-EASIX (monitor/organs/) -------
    # The CTCAE tables themselves are fixed (monitor/organs/ctcae.py), as NEWS2's chart is;
    # the reference limits they multiply are the local laboratory's.
    bilirubin_uln_mg_dl: float = setting(
        1.0,
        f"{LOCAL_LIMIT} (MSD Manual, Blood Tests table: total bilirubin up to 1.0 mg/dL); "
        f"{CTCAE} grades bilirubin in multiples of it",
        "mg/dL",
    )
    alt_uln_u_l: float = setting(
        40.0,
        f"{LOCAL_LIMIT} (ALT 10–40 U/L, adult laboratory reference ranges after the "
        f"Merck Manual); {CTCAE} grades ALT in multiples of it",
        "U/L",
    )
    ast_uln_u_l: float = setting(
        40.0,
        f"{LOCAL_LIMIT} (AST 10–40 U/L, adult laboratory reference ranges after the "
        f"Merck Manual); {CTCAE} grades AST in multiples of it",
        "U/L",
    )
    platelets_lln_10e9_l: float = setting(
        150.0,
        f"{LOCAL_LIMIT} (platelets 150–450 ×10⁹/L in most adult ranges); {CTCAE} grade 1 "
        "is below it down to 75, grades 2–4 use fixed counts",
        "10^9/L",
    )
    inflammation_start_grace_h: float = setting(
        24.0,
        f"{JUDGEMENT}: with no CRP, ferritin or IL-6 at or before therapy, the first within "
        "this long after it is the trend's start (a pre-infusion sample charted late still "
        "precedes CRS, median onset day 2–3)",
        "h",
    )
    easix_lookback_h: float = setting(
        72.0,
        "Pennisi, Blood Adv 2021: m-EASIX predicted severe CRS from labs at "
        "lymphodepletion (AUC 0.80), on day −1 (0.73) and day +1 (0.75); the latest LDH, CRP and "
        "platelets up to this long before therapy, the last days of lymphodepletion (day −3), "
        f"a {JUDGEMENT}",
        "h",
    )

    # -- artifacts -------------------------------------------------------------------------
    implausible_jump: dict[str, float] = setting(
        {
            "heart_rate": 40.0,
            "systolic_bp": 30.0,
            "diastolic_bp": 20.0,
            "mean_arterial_pressure": 20.0,
            "temperature": 2.0,
            "spo2": 10.0,
            "respiratory_rate": 15.0,
        },
        f"Alarm safety: artifact rejection of motion spikes (Drew 2014); sizes are a {JUDGEMENT}",
        "unit of each measurement",
    )
    artifact_hold_max_min: float = setting(
        90.0,
        f"{JUDGEMENT}: an unconfirmed jump is believed after this long (longer than an "
        "hourly NIBP or temperature cycle, so the next reading decides first)",
        "min",
    )
    artifact_recent_min: float = setting(
        15.0,
        f"{JUDGEMENT}: a sample within the jump size of the median of these last minutes "
        "is believed at once (a return from a motion burst, not a new jump)",
        "min",
    )

    # -- signal loss -----------------------------------------------------------------------
    continuous_interval_max_s: float = setting(
        120.0, f"{JUDGEMENT}: gateways export numerics every 1–60 s; up to 120 s apart is a stream", "s"
    )
    continuous_min_samples: int = setting(
        3, f"{JUDGEMENT}: samples in a row that make a parameter a continuous source", "samples"
    )
    signal_loss_after_s: float = setting(
        300.0, f"IEC 60601-1-8 technical condition; 5 minutes of silence or zeros is a {JUDGEMENT}", "s"
    )
    signal_loss_resolve_after_s: float = setting(
        60.0, f"{JUDGEMENT}: the stream must be back this long before signal loss resolves", "s"
    )

    # -- episodes: persistence and hysteresis ----------------------------------------------
    crs_persistence_s: float = setting(
        300.0,
        "issue 3: fever counts at once; a higher grade must hold this long (motion artifacts "
        f"last up to 3 minutes; persistence delays cut false alarms, Drew 2014), a {JUDGEMENT}",
        "s",
    )
    crs_downgrade_after_min: float = setting(
        60.0, f"{JUDGEMENT}: a lower grade must hold this long before the episode is downgraded", "min"
    )
    crs_resolve_after_h: float = setting(
        12.0, f"{JUDGEMENT}: one CRS course is one episode; fever gone for 12 h ends it", "h"
    )
    news2_persistence_s: float = setting(
        300.0,
        "Alarm safety: persistence delays cut false alarms (a 15 s SpO2 delay: −60 %); "
        f"5 minutes for a ward score is a {JUDGEMENT}",
        "s",
    )
    news2_downgrade_after_min: float = setting(
        60.0, f"{JUDGEMENT}: a lower NEWS2 response level must hold this long", "min"
    )
    news2_resolve_after_min: float = setting(
        240.0,
        f"{JUDGEMENT}: NEWS2 back in the low band for one observation round (4 h) ends "
        "the episode, so a score wobbling at a band edge is one episode",
        "min",
    )

    # -- trends and the early warning --------------------------------------------------------
    trend_window_min: float = setting(
        180.0, f"{JUDGEMENT}: CRS worsens over hours; three hours of per-minute values", "min"
    )
    trend_min_points: int = setting(
        3,
        f"{JUDGEMENT}: minutes with data a trend needs, at least one in the first and last third of the window",
        "min",
    )
    trend_interval_s: float = setting(300.0, f"{JUDGEMENT}: how often a febrile patient's trends are recomputed", "s")
    baseline_hours: float = setting(24.0, f"{JUDGEMENT}: the baseline is the median of the day before the fever", "h")
    baseline_min_minutes: int = setting(
        3, f"{JUDGEMENT}: minutes with data a baseline needs (three NIBP readings will do)", "min"
    )
    shock_index_systolic_below_baseline: float = setting(
        15.0,
        f"{JUDGEMENT}: the shock index warns only with systolic BP this far below baseline "
        "(fever alone raises heart rate ≈ 10/min per °C)",
        "mmHg",
    )
    heart_rate_rise_per_h: float = setting(10.0, f"{JUDGEMENT}: heart rate rising", "/min per h")
    heart_rate_above_baseline: float = setting(20.0, f"{JUDGEMENT}: and this far above baseline", "/min")
    systolic_fall_per_h: float = setting(8.0, f"{JUDGEMENT}: systolic BP falling", "mmHg per h")
    systolic_below_baseline: float = setting(15.0, f"{JUDGEMENT}: and this far below baseline", "mmHg")
    spo2_fall_per_h: float = setting(0.75, f"{JUDGEMENT}: SpO2 falling", "% per h")
    spo2_below_baseline: float = setting(2.0, f"{JUDGEMENT}: and this far below baseline", "%")
    spo2_far_below_baseline: float = setting(
        2.0, f"{JUDGEMENT}: SpO2 this far below baseline over the recent minutes warns without a slope", "%"
    )
    trend_recent_min: float = setting(30.0, f"{JUDGEMENT}: the recent level is the median of these last minutes", "min")
    temperature_rise_per_h: float = setting(0.3, f"{JUDGEMENT}: temperature rising", "°C per h")

    # -- deterioration early warning (issue 12, docs/deterioration-model.md) -----------------
    deterioration_rule: bool = setting(
        True,
        "issue 8: the fitted deterioration warning, with NEWS2's confirmed response "
        "levels as its floor, replaces the NEWS2 response levels (rule 'deterioration'); in a "
        "CRS risk period it speaks through the CRS episode. Measured against NEWS2 ≥ 5 and ≥ 7 "
        "on real ICU records and on simulated wards (docs/deterioration-model.md); false "
        "brings back the NEWS2 rule ('news2') as before",
    )
    deterioration_grace_s: float = setting(
        60.0,
        f"{JUDGEMENT}: each hour is scored this long after it ends, so that a set charted on the hour is in it",
        "s",
    )
    deterioration_weights: str = setting(
        "",
        "empty: the shipped weights file (version 2), fitted by the project's fit script on all "
        "3,072 stays of the PhysioNet/CinC 2019 development set, its figures from patient-level "
        "cross-validation of the same recipe (issue 22, docs/deterioration-model.md); a path replaces it",
    )
    deterioration_medium_open: float = setting(
        1.911,
        "fitted (weights file version 2): lowest score keeping the development set "
        "under 1.25 firings per non-septic patient-day and 11.5 % of hours flagged (issue 12 "
        "limits 1.4 and 13 %, less a margin for unseen patients); cross-validated, medium or "
        "above flags more septic stays 6 h ahead than SIRS ≥ 2 at NEWS2 ≥ 5's hours (issue 22)",
        "score",
    )
    deterioration_medium_resolve: float = setting(
        1.624,
        "fitted with the open threshold: 0.85 × it (resolve/open ratio tried 1.0, 0.85, "
        "0.7; most septic stays caught at −6 h within the limits; the 4-hour resolve delay and "
        "this hysteresis hold the alert across dips)",
        "score",
    )
    deterioration_medium_persistence_h: int = setting(
        2,
        f"{JUDGEMENT}: two hourly evaluations in a row; one never pages (an hour of "
        "artifact or exertion), 2 and 3 tried, 2 caught more",
        "evaluations",
    )
    deterioration_medium_resolve_h: int = setting(
        4,
        "fitted among 1–4: four hourly evaluations below the resolve threshold end a medium "
        "alert (one observation round, as news2_resolve_after_min)",
        "evaluations",
    )
    deterioration_high_open: float = setting(
        2.884,
        "fitted (weights file version 2, issue 22): the lowest score keeping the development "
        "set's high alerts, NEWS2 floor included, under NEWS2 ≥ 7's own 0.41 firings per "
        "non-septic patient-day and 0.94 × its 3.19 % of hours, hours counted as the engine "
        "counts them (each episode's closing hour too); cross-validated the same way in each "
        "training fold, high then flagged 1.5 × NEWS2 ≥ 7's septic stays 6 h ahead at no more "
        "than its hours on the stays held out (docs/deterioration-model.md)",
        "score",
    )
    deterioration_high_resolve: float = setting(
        2.452,
        "fitted with the open threshold: 0.85 × it (ratios 1.0, 0.85, 0.7 tried): a high "
        "alert ends once the score has fallen this far, so that a score wobbling at the open "
        "threshold neither closes nor re-fires (each closing costs an hour under alert)",
        "score",
    )
    deterioration_high_persistence_h: int = setting(
        3,
        "fitted among 2–3 (a single hourly evaluation never pages): three hourly evaluations "
        "in a row open a high alert; NEWS2 ≥ 7 confirmed on a repeat observation still opens "
        "it at once (deterioration_news2_high_floor)",
        "evaluations",
    )
    deterioration_high_resolve_h: int = setting(
        2,
        "fitted among 1–4: two evaluations below the resolve threshold end a high alert, "
        "which then falls back to medium while the medium level holds",
        "evaluations",
    )
    deterioration_news2_high_floor: int = setting(
        7,
        f"{RCP}: ≥ 7 calls an emergency response, so the warning is at least high while "
        "NEWS2 is ≥ 7 (the fitted weights reflect ICU sepsis, not every emergency): in its "
        "hourly score (the thresholds were fitted with this floor in place) and, between hours, "
        "once a repeat observation confirms it (deterioration_news2_confirm_s); 0 turns it off",
    )
    deterioration_news2_medium_floor: int = setting(
        6,
        f"{RCP}: 5–6 calls an urgent clinical review, so the warning is at least medium "
        "while NEWS2 ≥ 6 is confirmed on a repeat observation (deterioration_news2_confirm_s); "
        "6 rather than 5 because on the development set a confirmed floor at 5 flags 14.5 % of "
        "non-septic hours, over issue 12's 13 %, and at 6 12.2 % (docs/deterioration-model.md); "
        "0 turns it off",
    )
    deterioration_news2_confirm_s: float = setting(
        300.0,
        f"{RCP} and alarm safety: NEWS2's floors hold once a repeat observation at least "
        "this long after the first confirms the score (as news2_persistence_s); a value carried "
        "forward is not a repeat, so hourly charting confirms at the next hour's set",
        "s",
    )
    deterioration_news2_release_s: float = setting(
        3600.0,
        f"{JUDGEMENT}: the medium floor ends once NEWS2 has stayed below it this long "
        "(the high floor falls back to medium at once); 10 minutes let a score wobbling at 6 "
        "on a monitor page 2–5 times per simulated course (bench.cohort)",
        "s",
    )
    deterioration_counts_fever_in_risk_period: bool = setting(
        False,
        f"{ASTCT}: in a CRS risk period the ASTCT grade owns the fever (grade 1 is "
        "medium by policy), so the warning scores the other measurements there; counting the "
        "fever again escalated 58 % of simulated courses that never met grade 2 to high "
        "(bench.cohort, seed 1)",
    )
    deterioration_reasons: int = setting(3, f"{JUDGEMENT}: an alert names its three largest contributions", "reasons")
    deterioration_reason_min_score: float = setting(
        0.05, f"{JUDGEMENT}: smaller contributions are not worth a reason", "score"
    )
    deterioration_medium_severity: Severity = setting("medium", "issue 12: medium is for a closer look")
    deterioration_high_severity: Severity = setting(
        "high", "issue 12: high is for the patient who needs a clinician at the bedside now"
    )

    @field_validator("implausible_jump")
    @classmethod
    def _a_jump_for_every_measurement(cls, value: dict[str, float]) -> dict[str, float]:
        """A partial override keeps the defaults of the measurements it does not name."""
        unknown = sorted(set(value) - set(MEASUREMENTS))
        if unknown:
            raise ValueError(f"unknown measurements {unknown}; known: {list(MEASUREMENTS)}")
        if any(size <= 0 for size in value.values()):
            raise ValueError("every implausible jump must be greater than 0")
        default = cls.model_fields["implausible_jump"].default
        return {name: float(value.get(name, default[name])) for name in MEASUREMENTS}


def load_config(path: str | Path | None) -> EngineConfig:
    """The defaults, overridden by a JSON file when one is given."""
    if path is None:
        return EngineConfig()
    try:
        overrides = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise SystemExit(f"cannot read the configuration {path}: {error}") from None
    try:
        return EngineConfig.model_validate(overrides)
    except ValidationError as error:
        raise SystemExit(f"the configuration {path} is invalid: {error}") from None


def describe_settings(config: EngineConfig) -> list[dict[str, Any]]:
    """Each setting with its value, default, unit and source, for people and docs."""
    rows = []
    for name, field in EngineConfig.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        rows.append(
            {
                "name": name,
                "value": getattr(config, name),
                "default": field.default,
                "unit": extra.get("unit", ""),
                "source": extra.get("source", ""),
            }
        )
    return rows
