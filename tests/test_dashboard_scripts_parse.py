"""Every script the dashboard serves parses as an ES module, checked without a browser.

Why: a module that does not parse stops the whole page (the imports fail together), and the
Chromium tests meet it only after a broker, a worker and a browser have started. Two branches
that each declared the same `const` in one file merged cleanly as text and left the page
blank; this finds such a thing in a second. Node is the one Playwright ships for its driver.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright._impl._driver import compute_driver_executable  # noqa: SLF001 - Playwright's own node

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "alerting" / "dashboard" / "static" / "js").glob("*.js"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_the_script_parses_as_a_module(script: Path) -> None:
    node = compute_driver_executable()[0]
    checked = subprocess.run(
        [node, "--check", "--input-type=module"], input=script.read_bytes(), capture_output=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr.decode(errors="replace")


def test_there_are_scripts_to_check() -> None:
    assert len(SCRIPTS) >= 5
