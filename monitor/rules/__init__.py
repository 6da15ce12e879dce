"""The alert rules, one module each, and their registry (monitor/rules/registry.py).

- `crs` (crs.py): the provisional ASTCT grade in the CRS risk period; the ward rules yield to it.
- `news2` (news2.py): the NEWS2 response levels outside CRS.
- `deterioration` (deterioration.py): the hourly deterioration warning in NEWS2's place where
  `deterioration_rule` is on, with NEWS2's confirmed response levels as its floor.
- `signal_loss` (signal_loss.py): a continuous source silent or at zero.
- `aki` (aki.py): acute kidney injury by the KDIGO 2012 creatinine stage.
- `icans` (icans.py): the ASTCT ICANS grade of the neurological assessment in force, and an ICE
  fallen from the patient's own best, in the ICANS watch after therapy.
- `neuro_overdue` (neuro_overdue.py): a patient in the watch not assessed for too long.

How to add one: docs/rules.md.
"""

from monitor.rules.registry import (
    CLINICAL_RULES,
    GRADED_RULES,
    REGISTRY,
    RULE_NAMED,
    RULES,
    TECHNICAL_RULES,
    Findings,
    Rule,
    in_step_order,
)

__all__ = [
    "CLINICAL_RULES",
    "GRADED_RULES",
    "REGISTRY",
    "RULE_NAMED",
    "RULES",
    "TECHNICAL_RULES",
    "Findings",
    "Rule",
    "in_step_order",
]
