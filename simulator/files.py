"""A simulation to files: the JSON Lines that `crsmon replay` reads, and the ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import ValidationError

from monitor.wire import describe_validation_error, encode
from simulator.settings import SimulationSettings
from simulator.ward import Simulation


class InvalidSettings(ValueError):
    """Settings that cannot describe a ward; the message says which and why."""


def load_settings(path: str | Path | None, overrides: dict[str, Any]) -> SimulationSettings:
    """Defaults, then a JSON file of settings, then the command line's overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = orjson.loads(Path(path).read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            raise InvalidSettings(f"cannot read the simulation settings {path}: {error}") from None
        if not isinstance(values, dict):
            raise InvalidSettings(f"the simulation settings {path} must be a JSON object")
    try:
        return SimulationSettings.model_validate({**values, **overrides})
    except ValidationError as error:
        raise InvalidSettings(describe_validation_error(error)) from None


def write_events(simulation: Simulation, out: IO[bytes]) -> int:
    """Every message as one JSON line, nulls dropped as producers do; returns how many."""
    count = 0
    for count, message in enumerate(simulation.events(), start=1):
        out.write(encode(message, drop_none=True) + b"\n")
    return count


def write_truth(simulation: Simulation, path: str | Path) -> None:
    Path(path).write_bytes(orjson.dumps(simulation.truth_document(), option=orjson.OPT_INDENT_2))
