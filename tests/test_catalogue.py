"""The catalogue of observations (monitor/catalogue.py): what it holds, its conversions with worked
values, and that every consumer reads it instead of restating it (issue 20, outcome 1)."""

from __future__ import annotations

import ast
import asyncio
import json
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.catalogue import (
    CATALOGUE,
    LAB_TESTS,
    VITAL_SIGNS,
    Catalogue,
    Loinc,
    Observation,
    Unit,
    by_loinc,
    observation,
    to_json,
)

ROOT = Path(__file__).resolve().parent.parent

#: The contract's `type: lab` tests (CONTRACT.md), as a client written against it reads them.
CONTRACT_LAB_TESTS = (
    "creatinine",
    "bilirubin",
    "platelets",
    "crp",
    "ferritin",
    "il6",
    "ldh",
    "lactate",
    "wbc",
    "neutrophils",
    "alt",
    "ast",
    "fibrinogen",
)
#: The contract's canonical lab units.
CONTRACT_LAB_UNITS = {
    "creatinine": "mg/dL",
    "bilirubin": "mg/dL",
    "platelets": "10^9/L",
    "wbc": "10^9/L",
    "neutrophils": "10^9/L",
    "crp": "mg/L",
    "ferritin": "ng/mL",
    "il6": "pg/mL",
    "ldh": "U/L",
    "alt": "U/L",
    "ast": "U/L",
    "lactate": "mmol/L",
    "fibrinogen": "mg/dL",
}
#: The wire contract's hard bounds (VitalSigns), written out once more on purpose: this is the test.
CONTRACT_BOUNDS = {
    "heart_rate": (0, 350, "/min"),
    "systolic_bp": (0, 300, "mmHg"),
    "diastolic_bp": (0, 300, "mmHg"),
    "mean_arterial_pressure": (0, 300, "mmHg"),
    "temperature": (20, 45, "°C"),
    "spo2": (0, 100, "%"),
    "respiratory_rate": (0, 120, "/min"),
}


# --- what it holds ------------------------------------------------------------------------------


def test_it_holds_the_contracts_vital_signs_in_wire_order_and_its_lab_tests_with_their_units() -> None:
    assert VITAL_SIGNS == tuple(CONTRACT_BOUNDS)
    assert set(LAB_TESTS) == set(CONTRACT_LAB_TESTS)
    assert {name: observation(name).unit for name in LAB_TESTS} == CONTRACT_LAB_UNITS
    for entry in CATALOGUE:
        assert entry.label and entry.short_label and entry.loinc and entry.bounds_source
        assert entry.bounds[0] < entry.bounds[1]
    orders = [entry.display_order for entry in CATALOGUE]
    assert len(set(orders)) == len(orders)
    shown = CATALOGUE.in_display_order()
    assert shown[0].name == "temperature"  # the page's order: temperature first, as the course draws
    assert all(entry.kind == "vital_sign" for entry in shown[: len(VITAL_SIGNS)])


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("2160-0", "creatinine"),
        ("14682-9", "creatinine"),
        ("777-3", "platelets"),
        ("1975-2", "bilirubin"),
        ("1988-5", "crp"),
        ("2276-4", "ferritin"),
        ("26881-3", "il6"),
        ("2532-0", "ldh"),
        ("2524-7", "lactate"),
        ("6690-2", "wbc"),
        ("751-8", "neutrophils"),
        ("1742-6", "alt"),
        ("1920-8", "ast"),
        ("3255-7", "fibrinogen"),
        ("8867-4", "heart_rate"),
        ("2708-6", "spo2"),
        ("8310-5", "temperature"),
        (" 9279-1 ", "respiratory_rate"),
    ],
)
def test_a_loinc_code_finds_its_observation(code: str, name: str) -> None:
    found = by_loinc(code)
    assert found is not None and found.name == name


def test_an_unknown_name_or_code_says_so() -> None:
    assert by_loinc("99999-9") is None and CATALOGUE.get("glucose") is None
    with pytest.raises(KeyError, match="'glucose' is not an observation crsmon takes; known: heart_rate"):
        observation("glucose")


def _entry(name: str, **changes) -> Observation:
    base = Observation(
        name, "lab", name, name, "mg/dL", (Unit(("mg/dL",)),), (Loinc("0000-0"),), (0, 10), "a test", 99, 1
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (_entry("creatinine", loinc=(Loinc("1-1"),)), "in the catalogue twice"),
        (_entry("urea", loinc=(Loinc("2160-0"),)), "LOINC 2160-0 names both creatinine and urea"),
        (_entry("urea", units=(Unit(("mmol/L",), divide=2.0),)), "first unit must be the canonical one"),
    ],
)
def test_a_wrong_entry_fails_when_the_catalogue_is_made(extra: Observation, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CATALOGUE.with_observation(extra)


# --- conversions, worked --------------------------------------------------------------------

#: (observation, unit as sent, value sent, value in the canonical unit). Every accepted unit of
#: every observation has at least one row (checked below), so a unit added without its worked
#: value fails here.
WORKED = [
    ("creatinine", "mg/dL", 1.9, 1.9),
    ("creatinine", "umol/L", 168.0, 1.9005),  # 168 / 88.4 = 1.90045…
    ("creatinine", "µmol/L", 353.6, 4.0),  # KDIGO stage 3's 4.0 mg/dL (CLINICAL.md)
    ("creatinine", "μmol/L", 26.5, 0.2998),  # KDIGO's 0.3 mg/dL rise, as the guideline gives it in µmol/L
    ("bilirubin", "mg/dL", 1.2, 1.2),
    ("bilirubin", "umol/L", 51.3, 3.0),  # 51.3 / 17.1
    ("platelets", "10*9/L", 42.0, 42.0),
    ("platelets", "10*3/uL", 150.0, 150.0),
    ("platelets", "K/uL", 42.0, 42.0),
    ("wbc", "10^9/L", 11.5, 11.5),
    ("wbc", "10^3/µL", 0.4, 0.4),
    ("neutrophils", "G/L", 0.5, 0.5),
    ("neutrophils", "K/µL", 1.2, 1.2),
    ("crp", "mg/L", 52.0, 52.0),
    ("crp", "mg/dL", 5.2, 52.0),  # × 10
    ("ferritin", "ng/mL", 1500.0, 1500.0),
    ("ferritin", "ug/L", 1500.0, 1500.0),
    ("il6", "pg/mL", 250.0, 250.0),
    ("il6", "ng/L", 250.0, 250.0),
    ("ldh", "U/L", 300.0, 300.0),
    ("ldh", "[IU]/L", 300.0, 300.0),
    ("alt", "IU/L", 45.0, 45.0),
    ("alt", "U/L", 45.0, 45.0),
    ("ast", "U/L", 9961.0, 9961.0),
    ("ast", "[IU]/L", 40.0, 40.0),
    ("lactate", "mmol/L", 4.2, 4.2),
    ("lactate", "mg/dL", 36.0, 3.996),  # 36 / 9.01 = 3.99556
    ("fibrinogen", "mg/dL", 250.0, 250.0),
    ("fibrinogen", "g/L", 2.5, 250.0),  # × 100
    ("temperature", "Cel", 38.5, 38.5),
    ("temperature", "[degF]", 101.3, 38.5),  # (101.3 − 32) × 5 / 9
    ("temperature", "°F", 98.6, 37.0),
    ("systolic_bp", "mm[Hg]", 88.0, 88.0),
    ("systolic_bp", "kPa", 12.0, 90.0),  # 12 × 7.500617 = 90.007
    ("diastolic_bp", "mmHg", 60.0, 60.0),
    ("diastolic_bp", "kPa", 8.0, 60.0),
    ("mean_arterial_pressure", "mm Hg", 65.0, 65.0),
    ("mean_arterial_pressure", "kPa", 8.7, 65.3),
    ("heart_rate", "/min", 92.0, 92.0),
    ("respiratory_rate", "{breaths}/min", 16.0, 16.0),
    ("spo2", "%", 97.0, 97.0),
]


@pytest.mark.parametrize(("name", "spelling", "sent", "canonical"), WORKED)
def test_a_value_in_an_accepted_unit_becomes_the_canonical_value(name, spelling, sent, canonical) -> None:
    unit = observation(name).unit_for(spelling)
    assert unit is not None, f"{name} does not accept {spelling!r}"
    assert unit.to_canonical(sent) == pytest.approx(canonical, abs=1e-9)


def test_every_accepted_unit_has_a_worked_value() -> None:
    worked = {(name, observation(name).unit_for(spelling).ucum) for name, spelling, _, _ in WORKED}  # type: ignore[union-attr]
    wanted = {(entry.name, unit.ucum) for entry in CATALOGUE for unit in entry.units}
    assert wanted - worked == set()


def test_a_unit_of_another_test_or_of_nothing_is_not_accepted() -> None:
    assert observation("creatinine").unit_for("mmol/L") is None  # creatinine in mmol/L is not a unit we take
    assert observation("crp").unit_for("mg/mL") is None
    assert observation("platelets").unit_for("/uL") is None  # cells per µL: a thousand times off
    assert observation("creatinine").unit_for(" umol/L ") is not None  # blanks around are tolerated


# --- every consumer reads it ------------------------------------------------------------------


def test_the_wire_bounds_are_the_catalogues_and_the_contracts() -> None:
    from monitor.wire.vitals import HARD_BOUNDS, MEASUREMENTS

    assert HARD_BOUNDS == {name: (*observation(name).bounds, observation(name).unit) for name in VITAL_SIGNS}
    assert HARD_BOUNDS == CONTRACT_BOUNDS
    assert MEASUREMENTS == VITAL_SIGNS


def test_the_engines_labels_and_units_are_the_catalogues() -> None:
    from monitor import parameters

    assert parameters.LABELS == tuple(observation(name).label for name in VITAL_SIGNS)
    assert parameters.UNITS == tuple(observation(name).unit for name in VITAL_SIGNS)
    assert parameters.describe(parameters.SYSTOLIC, 88) == "systolic BP 88 mmHg"
    assert parameters.describe(parameters.TEMPERATURE, 38.94) == "temperature 38.9 °C"


def test_the_gateways_loinc_codes_and_units_for_vital_signs_are_the_catalogues() -> None:
    from gateway import vocabulary

    assert {code: meaning.measurement for code, meaning in vocabulary.LOINC_CODES.items()} == {
        loinc.code: entry.name for entry in CATALOGUE.of_kind("vital_sign") for loinc in entry.loinc
    }
    assert {code: meaning.rank for code, meaning in vocabulary.LOINC_CODES.items()} == {
        loinc.code: loinc.rank for entry in CATALOGUE.of_kind("vital_sign") for loinc in entry.loinc
    }
    for entry in CATALOGUE.of_kind("vital_sign"):
        for unit in entry.units:
            for spelling in unit.spellings:
                convert = vocabulary.converter_for(entry.name, [spelling])
                assert convert is not None, (entry.name, spelling)
                assert convert(50.0) == unit.to_canonical(50.0)
    assert vocabulary.CONTRACT_UNITS["temperature"] == "Cel or [degF]"
    assert vocabulary.converter_for("heart_rate", ["MDC_DIM_BEAT_PER_MIN"]) is not None  # MDC: the gateway's
    assert vocabulary.converter_for("heart_rate", ["MDC_DIM_RESP_PER_MIN"]) is None


def test_validates_physionet_columns_name_catalogue_observations_in_units_it_accepts() -> None:
    from validation.physionet import PHYSIONET_OBSERVATIONS, ColumnMap, physionet_value

    columns = ColumnMap()
    for column, (name, unit) in PHYSIONET_OBSERVATIONS.items():
        assert observation(name).unit_for(unit) is not None
        if name in VITAL_SIGNS:
            assert getattr(columns, name) == column
    assert {name for name, _ in PHYSIONET_OBSERVATIONS.values()} >= {
        *VITAL_SIGNS,
        "creatinine",
        "bilirubin",
        "platelets",
        "lactate",
        "wbc",
    }
    assert physionet_value("Platelets", 42.0) == ("platelets", 42.0)
    assert physionet_value("Lactate", 2.1) == ("lactate", 2.1)


def test_the_case_report_labels_and_units_are_the_catalogues() -> None:
    from alerting.case_report.course import SIGNS
    from alerting.case_report.render import PANELS

    assert SIGNS == tuple(entry.name for entry in CATALOGUE.in_display_order("vital_sign"))
    drawn = [sign for _, _, series, _ in PANELS for sign, _, _, _ in series]
    assert sorted(drawn) == sorted(VITAL_SIGNS)
    for _, axis_label, series, _ in PANELS:
        first = observation(series[0][0])
        assert axis_label.endswith(f"\n({first.unit})")
        for sign, legend, _, _ in series:
            assert legend == observation(sign).short_label


def test_the_dashboards_course_columns_are_the_catalogues_vital_signs() -> None:
    from alerting.dashboard.course import COURSE_SIGNS

    assert COURSE_SIGNS == tuple(entry.name for entry in CATALOGUE.in_display_order("vital_sign"))


def test_the_dashboard_serves_the_catalogue_and_an_added_observation_shows_up() -> None:
    """Over real HTTP: the dashboard's application on a loopback port, asked as a program would
    (a bearer token). A copy of the catalogue with one more test is what it serves."""
    from aiohttp import web

    from alerting.dashboard.acknowledge import Acknowledger
    from alerting.dashboard.broadcast import Broadcaster
    from alerting.dashboard.server import build_app
    from alerting.dashboard.ward_view import WardView
    from crsmon.local_kafka import free_port

    urea = _entry(
        "urea",
        label="urea",
        short_label="Urea",
        unit="mmol/L",
        units=(Unit(("mmol/L",)),),
        loinc=(Loinc("22664-7"),),
        bounds=(0, 150),
        display_order=30,
    )
    extended = CATALOGUE.with_observation(urea)

    async def served(catalogue: Catalogue) -> dict:
        view = WardView(timedelta(hours=6))
        app = build_app(
            Broadcaster(view, 1.0), Acknowledger("127.0.0.1:1", "alert-acks", view), "sesame", 0, catalogue=catalogue
        )
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:

            def get() -> tuple[int, str, bytes]:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/observations", headers={"Authorization": "Bearer sesame"}
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.headers["Content-Type"], response.read()

            status, content_type, body = await asyncio.to_thread(get)
        finally:
            await runner.cleanup()
        assert status == 200 and content_type.startswith("application/json")
        return json.loads(body)

    plain = asyncio.run(served(CATALOGUE))
    assert plain == json.loads(json.dumps(to_json()))
    assert [entry["name"] for entry in plain["observations"]] == [e.name for e in CATALOGUE.in_display_order()]
    temperature = plain["observations"][0]
    assert (temperature["name"], temperature["short_label"], temperature["unit"], temperature["digits"]) == (
        "temperature",
        "Temp",
        "°C",
        1,
    )
    with_urea = asyncio.run(served(extended))
    assert with_urea["observations"][-1] == {
        "name": "urea",
        "kind": "lab",
        "label": "urea",
        "short_label": "Urea",
        "unit": "mmol/L",
        "ucum": "mmol/L",
        "digits": 1,
        "display_order": 30,
        "bounds": [0, 150],
        "loinc": ["22664-7"],
        "units": [{"ucum": "mmol/L", "spellings": ["mmol/L"], "multiply": 1.0, "divide": 1.0, "shift": 0.0}],
    }


def test_the_dashboards_scripts_take_words_and_units_from_the_served_catalogue() -> None:
    """The page's sign words and units come from /api/observations (format.js, which the tiles,
    the course chart and the patient view import), never from literals in a script."""
    scripts = {path.name: path.read_text() for path in (ROOT / "alerting/dashboard/static/js").glob("*.js")}
    assert "fetch('/api/observations'" in scripts["format.js"]
    for name in ("tile.js", "course_chart.js", "patient_view.js"):
        assert "from './format.js'" in scripts[name]
    literals = {f"'{entry.short_label}'" for entry in CATALOGUE.of_kind("vital_sign")} | {
        f"'{entry.unit}'" for entry in CATALOGUE.of_kind("vital_sign")
    }
    restated = sorted((name, literal) for name, script in scripts.items() for literal in literals if literal in script)
    assert restated == []


# --- nobody else restates the seven measurements' bounds -------------------------------------

SHIPPED = ("monitor", "gateway", "validation", "alerting", "streams", "simulator", "crsmon", "kafka_client")


def _restatements(path: Path, root: Path = ROOT) -> list[str]:
    """Where a file writes a vital sign's hard bounds as literals: a (low, high, unit) tuple, a
    dict entry `name: (low, high, …)`, a "low–high unit" text, or the heart rate's 350."""
    bounds = {name: observation(name).bounds for name in VITAL_SIGNS}
    triples = {(*observation(name).bounds, observation(name).unit) for name in VITAL_SIGNS}
    texts = {
        f"{low:g}{dash}{high:g} {observation(name).unit}" for name, (low, high) in bounds.items() for dash in ("–", "-")
    }
    heart_rate_high = bounds["heart_rate"][1]

    def constants(node: ast.AST) -> tuple | None:
        if isinstance(node, ast.Tuple) and all(isinstance(part, ast.Constant) for part in node.elts):
            return tuple(part.value for part in node.elts)  # type: ignore[attr-defined]
        return None

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        values = constants(node)
        if values is not None and len(values) == 3 and values in triples:
            found.append(f"{where} {values}")
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                pair = constants(value) if value is not None else None
                if (
                    isinstance(key, ast.Constant)
                    and key.value in bounds
                    and pair is not None
                    and pair[:2] == bounds[key.value]
                ):
                    found.append(f"{where} {key.value}: {pair}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend(f"{where} {text!r}" for text in texts if text in node.value)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == heart_rate_high:
            found.append(f"{where} {node.value}")
    return found


def test_no_module_but_the_catalogue_restates_the_vital_signs_bounds() -> None:
    found = []
    for room in SHIPPED:
        for path in sorted((ROOT / room).rglob("*.py")):
            if path != ROOT / "monitor/catalogue.py":
                found.extend(_restatements(path))
    assert found == []


def test_the_restatement_scan_finds_the_old_copies(tmp_path: Path) -> None:
    """The scan above is only worth its green if it sees what it looks for: the wire's old table,
    NEWS2's old table size, an old message."""
    old = tmp_path / "old.py"
    old.write_text(
        'HARD_BOUNDS = {"heart_rate": (0, 350, "/min"), "spo2": (0, 100, "%")}\n'
        "_PULSE_POINTS = points(table, 350)\n"
        'REASON = "temperature 134 outside 20–45 °C"\n'
        'B = {"temperature": (20, 45)}\n'
    )
    found = _restatements(old, tmp_path)
    assert len(found) >= 6, found
    assert any("'20–45 °C'" in line for line in found) and any("temperature: (20, 45)" in line for line in found)
