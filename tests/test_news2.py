"""NEWS2 against the Royal College of Physicians' chart (2017): every band edge, both scales.

Each expected value below is read off the RCP chart (docs/clinical-reference.md reproduces
it), not from the code: a pair (value, points) per side of every edge.
"""

import pytest

from monitor.scores.news2 import (
    air_or_oxygen_points,
    band_of,
    consciousness_points,
    news2,
    pulse_points,
    respiration_points,
    spo2_points,
    systolic_points,
    temperature_points,
)

# Respiration rate: ≤ 8 → 3; 9–11 → 1; 12–20 → 0; 21–24 → 2; ≥ 25 → 3
RESPIRATION_EDGES = [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (60, 3)]
# SpO2 scale 1: ≤ 91 → 3; 92–93 → 2; 94–95 → 1; ≥ 96 → 0
SPO2_SCALE_1_EDGES = [(70, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
# Systolic: ≤ 90 → 3; 91–100 → 2; 101–110 → 1; 111–219 → 0; ≥ 220 → 3
SYSTOLIC_EDGES = [(60, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
# Pulse: ≤ 40 → 3; 41–50 → 1; 51–90 → 0; 91–110 → 1; 111–130 → 2; ≥ 131 → 3
PULSE_EDGES = [
    (30, 3),
    (40, 3),
    (41, 1),
    (50, 1),
    (51, 0),
    (90, 0),
    (91, 1),
    (110, 1),
    (111, 2),
    (130, 2),
    (131, 3),
    (200, 3),
]
# Temperature: ≤ 35.0 → 3; 35.1–36.0 → 1; 36.1–38.0 → 0; 38.1–39.0 → 1; ≥ 39.1 → 2
TEMPERATURE_EDGES = [
    (33.0, 3),
    (35.0, 3),
    (35.1, 1),
    (36.0, 1),
    (36.1, 0),
    (38.0, 0),
    (38.1, 1),
    (39.0, 1),
    (39.1, 2),
    (41.0, 2),
]


@pytest.mark.parametrize("rate, points", RESPIRATION_EDGES)
def test_respiration_rate_band_edges(rate, points):
    assert respiration_points(rate) == points


@pytest.mark.parametrize("spo2, points", SPO2_SCALE_1_EDGES)
def test_spo2_scale_1_band_edges(spo2, points):
    assert spo2_points(spo2, scale=1, on_oxygen=False) == points
    assert spo2_points(spo2, scale=1, on_oxygen=True) == points  # scale 1 ignores oxygen here


# SpO2 scale 2: ≤ 83 → 3; 84–85 → 2; 86–87 → 1; 88–92 → 0, and ≥ 93 on air → 0;
# on oxygen 93–94 → 1; 95–96 → 2; ≥ 97 → 3
@pytest.mark.parametrize(
    "spo2, on_oxygen, points",
    [
        (75, False, 3),
        (83, False, 3),
        (84, False, 2),
        (85, False, 2),
        (86, False, 1),
        (87, False, 1),
        (88, False, 0),
        (92, False, 0),
        (93, False, 0),
        (97, False, 0),
        (100, False, 0),
        (83, True, 3),
        (84, True, 2),
        (86, True, 1),
        (88, True, 0),
        (92, True, 0),
        (93, True, 1),
        (94, True, 1),
        (95, True, 2),
        (96, True, 2),
        (97, True, 3),
        (100, True, 3),
    ],
)
def test_spo2_scale_2_band_edges(spo2, on_oxygen, points):
    assert spo2_points(spo2, scale=2, on_oxygen=on_oxygen) == points


def test_air_or_oxygen():
    assert air_or_oxygen_points(False) == 0
    assert air_or_oxygen_points(True) == 2


@pytest.mark.parametrize("systolic, points", SYSTOLIC_EDGES)
def test_systolic_band_edges(systolic, points):
    assert systolic_points(systolic) == points


@pytest.mark.parametrize("pulse, points", PULSE_EDGES)
def test_pulse_band_edges(pulse, points):
    assert pulse_points(pulse) == points


@pytest.mark.parametrize("acvpu, points", [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness(acvpu, points):
    assert consciousness_points(acvpu) == points


@pytest.mark.parametrize("celsius, points", TEMPERATURE_EDGES)
def test_temperature_band_edges(celsius, points):
    assert temperature_points(celsius) == points


@pytest.mark.parametrize(
    "score_of, value, points",
    [
        # values between the chart's whole numbers round half up to the chart's resolution
        (pulse_points, 90.4, 0),
        (pulse_points, 90.5, 1),
        (pulse_points, 40.4, 3),
        (pulse_points, 40.5, 1),
        (systolic_points, 90.49, 3),
        (systolic_points, 90.5, 2),
        (systolic_points, 219.5, 3),
        (respiration_points, 8.4, 3),
        (respiration_points, 8.5, 1),
        (respiration_points, 24.5, 3),
        (temperature_points, 38.04, 0),
        (temperature_points, 38.05, 1),
        (temperature_points, 35.04, 3),
    ],
)
def test_values_between_chart_rows_round_half_up(score_of, value, points):
    assert score_of(value) == points


@pytest.mark.parametrize(
    "score, components, band",
    [
        (0, (0, 0, 0, 0, 0, 0, 0), "low"),
        (4, (1, 1, 0, 1, 1, 0, 0), "low"),
        (3, (3, 0, 0, 0, 0, 0, 0), "low_medium"),  # a single parameter scoring 3
        (4, (0, 0, 0, 3, 1, 0, 0), "low_medium"),
        (5, (0, 0, 0, 3, 2, 0, 0), "medium"),  # 5–6 is medium even with a red score
        (5, (1, 1, 2, 1, 0, 0, 0), "medium"),
        (6, (2, 1, 0, 1, 1, 0, 1), "medium"),
        (7, (2, 2, 2, 1, 0, 0, 0), "high"),
        (12, (3, 3, 2, 3, 1, 0, 0), "high"),
    ],
)
def test_clinical_risk_bands(score, components, band):
    assert band_of(score, components) == band


def test_the_contracts_example_scores_six_medium():
    result = news2(
        respiratory_rate=22,
        spo2=95,
        on_oxygen=False,
        systolic_bp=105,
        heart_rate=95,
        consciousness="A",
        temperature=38.5,
    )
    assert result.score == 6 and result.band == "medium" and result.complete
    assert result.as_dict() == {
        "respiratory_rate": 2,
        "spo2": 1,
        "air_or_oxygen": 0,
        "systolic_bp": 1,
        "heart_rate": 1,
        "consciousness": 0,
        "temperature": 1,
    }


def test_a_missing_parameter_scores_zero_and_makes_the_score_incomplete():
    result = news2(respiratory_rate=26, spo2=97, systolic_bp=120, heart_rate=80, temperature=37.0)
    assert result.score == 3 and result.band == "low_medium" and not result.complete


def test_scale_2_patient_on_oxygen_at_97_scores_three_for_spo2_and_two_for_oxygen():
    result = news2(
        respiratory_rate=16,
        spo2=97,
        on_oxygen=True,
        systolic_bp=120,
        heart_rate=80,
        consciousness="A",
        temperature=37.0,
        scale=2,
    )
    assert result.components[:3] == (0, 3, 2) and result.score == 5 and result.band == "medium"
    on_scale_1 = news2(
        respiratory_rate=16,
        spo2=97,
        on_oxygen=True,
        systolic_bp=120,
        heart_rate=80,
        consciousness="A",
        temperature=37.0,
        scale=1,
    )
    assert on_scale_1.components[:3] == (0, 0, 2) and on_scale_1.score == 2
