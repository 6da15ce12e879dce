"""docs/contract.md names every alert rule the engine has: clients route on `Alert.rule` and are
written against that page, while the rules themselves are registered in monitor/rules/registry.py.

Why: the contract's list is prose written by hand; a rule added to the registry and not to the
page is a value a pager service or integration engine meets without warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from monitor.rules import RULES

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "contract.md"


def rules_in_the_contract() -> set[str]:
    """The names the contract's `Alert.rule` bullet introduces, each as "`name` (what it watches…"."""
    text = CONTRACT.read_text(encoding="utf-8")
    start = text.index("- **Alert** `rule` is one of")
    bullet = text[start : text.find("\n- ", start + 1)]
    return set(re.findall(r"`([a-z0-9_]+)` \(", bullet))


def test_the_contract_names_every_registered_rule_and_no_other() -> None:
    named = rules_in_the_contract()
    assert named == set(RULES), (
        f"missing from docs/contract.md: {set(RULES) - named}; not registered: {named - set(RULES)}"
    )
