"""Clinical settings: every threshold with its default and the guideline it comes from.

A hospital may change a default (its alarm policy is its own, NPSG.06.01.01 asks that it be
explicit); it may not lose the record of where the default came from. So each setting carries
its source in the schema, and `crsmon config` prints them side by side.
"""

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError


def setting(default: Any, source: str, unit: str = "") -> Any:
    """A configurable value that remembers where its default came from."""
    return Field(default, json_schema_extra={"source": source, "unit": unit})


class EngineConfig(BaseModel):
    """Thresholds and timings of the clinical engine. Defaults cite docs/clinical-reference.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fever_celsius: float = setting(38.0, "ASTCT 2019 (Lee et al.): fever is temperature ≥ 38.0 °C", "°C")
    risk_period_days: float = setting(
        14.0, "Registry data: new CRS after day 14 is rare (0 of 475 patients)", "days"
    )
    status_interval_s: float = setting(
        60.0, "Wire contract: PatientStatus at least once a minute while vitals flow", "s"
    )


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
        extra = field.json_schema_extra or {}
        rows.append({
            "name": name, "value": getattr(config, name), "default": field.default,
            "unit": extra.get("unit", ""), "source": extra.get("source", ""),
        })
    return rows
