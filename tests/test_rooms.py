"""The rooms of the code base import only what the design lets them (README, "folder | holds").

`monitor/` is the clinical core: no Faust, Kafka, HTTP or plotting (case reports are drawn in
`alerting/case_report/`), so every clinical behaviour runs without a broker. `streams/` (the
worker), `gateway/` (HL7/FHIR in) and `alerting/` (dispatcher, dashboard) use `monitor/` and the
shared `kafka_client/`, never each other. `simulator/` and `validation/` use only `monitor/`.
`kafka_client/` uses none of them and no Faust. Checked on the source, statically: an import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "monitor": {
        "faust",
        "aiokafka",
        "kafka",
        "aiohttp",
        "mode",
        "streams",
        "alerting",
        "kafka_client",
        "crsmon",
        "gateway",
        "simulator",
        "requests",
        "httpx",
        "urllib.request",
        "http.client",
        "http.server",
        "matplotlib",
    },
    "kafka_client": {"faust", "mode", "monitor", "streams", "alerting", "crsmon", "gateway", "simulator"},
    "streams": {"alerting", "crsmon", "gateway", "simulator"},
    "alerting": {"streams", "faust", "mode", "crsmon", "gateway", "simulator"},
    "gateway": {"faust", "mode", "streams", "alerting", "simulator", "crsmon"},
    "simulator": {
        "faust",
        "aiokafka",
        "kafka",
        "aiohttp",
        "mode",
        "streams",
        "alerting",
        "gateway",
        "kafka_client",
        "crsmon",
        "requests",
        "httpx",
        "urllib.request",
        "http.client",
        "http.server",
    },
    "validation": {
        "faust",
        "aiokafka",
        "kafka",
        "aiohttp",
        "mode",
        "streams",
        "alerting",
        "gateway",
        "simulator",
        "kafka_client",
        "crsmon",
        "requests",
        "httpx",
        "urllib.request",
        "http.client",
        "http.server",
    },
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def crossings(room: str) -> list[str]:
    found = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for name in imported_modules(path):
            for forbidden in FORBIDDEN[room]:
                if name == forbidden or name.startswith(forbidden + "."):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_only_what_the_design_allows(room: str) -> None:
    assert crossings(room) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from faust.auth import SASLCredentials\n    import aiokafka.conn\n")
    assert imported_modules(module) == {"faust.auth", "aiokafka.conn"}
