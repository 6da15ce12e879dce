"""m-EASIX at therapy start = LDH (U/L) × CRP (mg/dL) / platelets (10⁹/L) (Pennisi, Blood Adv
2021), from the results nearest before therapy within the lookback; CRP arrives in mg/L."""

from monitor.config import EngineConfig
from monitor.labs import LabHistory
from monitor.organs.easix import easix_at_therapy, m_easix

CONFIG = EngineConfig()
H = 3600.0
THERAPY = 1_000 * H


def panel(*results: tuple[str, float, float]) -> LabHistory:
    """(test, value, hours relative to therapy)."""
    labs = LabHistory()
    for test, value, hours in results:
        labs.add(test, value, THERAPY + hours * H, 14 * 86400, 64)
    return labs


def test_crp_in_mg_l_is_divided_by_ten():
    # LDH 300 U/L, CRP 20 mg/L = 2 mg/dL, platelets 150: 300 × 2 / 150 = 4
    assert m_easix(300, 20, 150) == 4.0
    assert m_easix(300, 20, 0) is None


def test_the_results_nearest_before_therapy():
    labs = panel(
        ("ldh", 250, -60), ("ldh", 400, -10), ("crp", 35, -12), ("platelets", 80, -12), ("ldh", 900, 30)
    )  # after therapy: not a pre-infusion value
    easix = easix_at_therapy(labs, THERAPY, CONFIG)
    assert easix.m_easix == 17.5  # 400 × 3.5 / 80
    assert easix.at == THERAPY - 10 * H  # the newest result it used


def test_a_result_older_than_the_lookback_leaves_no_score():
    labs = panel(("ldh", 400, -80), ("crp", 35, -12), ("platelets", 80, -12))
    assert easix_at_therapy(labs, THERAPY, CONFIG) is None
    longer = EngineConfig(easix_lookback_h=96)
    assert easix_at_therapy(labs, THERAPY, longer).m_easix == 17.5


def test_a_missing_test_or_therapy_leaves_no_score():
    assert easix_at_therapy(panel(("ldh", 400, -10), ("crp", 35, -12)), THERAPY, CONFIG) is None
    full = panel(("ldh", 400, -10), ("crp", 35, -12), ("platelets", 80, -12))
    assert easix_at_therapy(full, None, CONFIG) is None
