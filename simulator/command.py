"""`crsmon simulate`: a simulated ward as JSON Lines that `crsmon replay` reads as it is."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone

from simulator.files import InvalidSettings, load_settings, write_events, write_truth
from simulator.settings import SimulationSettings
from simulator.ward import Simulation

OVERRIDES = (
    "patients",
    "days",
    "seed",
    "start",
    "numerics_interval_s",
    "nibp_intervals_min",
    "temperature_interval_min",
    "crs_share",
    "deterioration_share",
    "busy_share",
)


def ending_by_now(settings: SimulationSettings, told: bool) -> SimulationSettings:
    """A ward that would run past the present starts earlier, so that it ends at the last whole
    hour, unless its start was asked for: the worker and replay refuse records dated ahead of
    their clock (monitor/intake.py), and a file of them would be dead letters."""
    end = settings.start + timedelta(days=settings.days)
    now = datetime.now(timezone.utc)
    if told or end <= now:
        return settings
    hour = now.replace(minute=0, second=0, microsecond=0)
    return settings.model_copy(update={"start": hour - timedelta(days=settings.days)})


def simulate_command(args: argparse.Namespace) -> int:
    overrides = {name: value for name in OVERRIDES if (value := getattr(args, name, None)) is not None}
    try:
        settings = load_settings(args.settings, overrides)
        if args.artifacts is not None:
            if args.artifacts < 0:
                raise InvalidSettings(f"--artifacts {args.artifacts} must be 0 or more")
            settings = settings.model_copy(update={"artifacts": settings.artifacts.scaled(args.artifacts)})
    except InvalidSettings as error:
        print(f"crsmon simulate: {error}", file=sys.stderr)
        return 2
    settings = ending_by_now(settings, told="start" in overrides)
    simulation = Simulation(settings)
    try:
        out = nullcontext(sys.stdout.buffer) if args.out == "-" else open(args.out, "wb")
    except OSError as error:
        print(f"crsmon simulate: cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        with out as stream:
            write_events(simulation, stream)
            stream.flush()
    except BrokenPipeError:  # `crsmon simulate | head` is a normal way to look: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.truth:
        try:
            write_truth(simulation, args.truth)
        except OSError as error:
            print(f"crsmon simulate: cannot write {args.truth}: {error.strerror}", file=sys.stderr)
            return 2
    return 0
