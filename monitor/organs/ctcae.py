"""CTCAE v5 grades of the liver and blood tests crsmon receives: bilirubin, ALT, AST, platelets.

Why CTCAE: it is how oncology, CAR-T trials and product labels grade these organ toxicities, so a
grade here reads as the haematology team already reads it. The tables are the standard's and
fixed (as NEWS2's chart is, monitor/scores/news2.py); the limits they refer to — the upper limit
of normal (ULN) and the lower (LLN) — are the local laboratory's, so they are configuration
(`bilirubin_uln_mg_dl`, `alt_uln_u_l`, `ast_uln_u_l`, `platelets_lln_10e9_l`).

Graded as for a patient whose baseline was normal (CTCAE v5 has other multiples of baseline for
ALT and AST when it was abnormal: crsmon does not know the pre-treatment baseline, so it uses the
ULN criteria and says so in docs/clinical-reference.md).

Boundaries, as CTCAE writes them ("> 1.5 – 3.0 × ULN"): a value exactly on a multiple belongs to
the lower grade; for platelets ("< 75 – 50") a count exactly on a boundary belongs to the lower
grade too (75 is grade 1, 50 grade 2, 25 grade 3).
"""

from __future__ import annotations

from monitor.config import EngineConfig

#: Above ULN × each multiple, the next grade: grade 1 above 1 × ULN, grade 2 above the first.
_ULN_MULTIPLES: dict[str, tuple[float, float, float, float]] = {
    "bilirubin": (1.0, 1.5, 3.0, 10.0),
    "alt": (1.0, 3.0, 5.0, 20.0),
    "ast": (1.0, 3.0, 5.0, 20.0),
}
#: Platelets (10^9/L): grade 2 below 75, grade 3 below 50, grade 4 below 25; grade 1 below LLN.
_PLATELET_COUNTS: tuple[float, float, float] = (75.0, 50.0, 25.0)

#: The tests with a CTCAE grade here, in the catalogue's display order.
GRADED_TESTS: tuple[str, ...] = ("bilirubin", "alt", "ast", "platelets")


def upper_limit(test: str, config: EngineConfig) -> float:
    """The configured ULN of a test graded in multiples of it."""
    return {"bilirubin": config.bilirubin_uln_mg_dl, "alt": config.alt_uln_u_l, "ast": config.ast_uln_u_l}[test]


def ctcae_grade(test: str, value: float, config: EngineConfig) -> int | None:
    """The CTCAE v5 grade 0–4 of one result in its canonical unit; None for a test that has no
    grade here (0 means within the limit: the status says "normal" rather than nothing)."""
    if test == "platelets":  # grades 2-4 are absolute counts, whatever the local LLN
        below = sum(1 for count in _PLATELET_COUNTS if value < count)
        if below:
            return 1 + below
        return 1 if value < config.platelets_lln_10e9_l else 0
    multiples = _ULN_MULTIPLES.get(test)
    if multiples is None:
        return None
    # The ratio rounded: 1.8 mg/dL against a ULN of 1.2 is 1.5 × ULN (grade 1), which floating
    # point makes 1.5000000000000002 (grade 2).
    ratio = round(value / upper_limit(test, config), 9)
    return sum(1 for multiple in multiples if ratio > multiple)
