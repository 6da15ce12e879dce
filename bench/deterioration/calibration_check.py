"""Does site calibration hold on stays it was not calibrated on? Target against achieved burden.

    .venv/bin/python -m bench.deterioration.calibration_check SOURCE OUT \
        [--targets high=3%,medium=12%] [--seed 1]

Splits SOURCE's stays by patient into two halves (stratified by sepsis; symbolic links under
OUT/a and OUT/b, nothing copied), then, each way round: `crsmon validate` calibrates on one
half (`--target-burden`), writing its clinical configuration file, and `crsmon validate
--config` that file replays the other half. Prints, per target, the burden asked for, the
burden on the half calibrated on, and the burden achieved on the other half, with the
sensitivity it buys there and its interval.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson

from bench.deterioration.data import read_folder
from validation.calibration import DETECTOR, FIGURE, parse_targets


def halves(source: Path, out: Path, seed: int) -> tuple[Path, Path]:
    stays = read_folder(source)
    rng = np.random.default_rng(seed)
    folders = (out / "a", out / "b")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.psv"):
            old.unlink()
    for group in ([s for s in stays if s.septic], [s for s in stays if not s.septic]):
        for k, index in enumerate(rng.permutation(len(group))):
            stay = group[index]
            (folders[k % 2] / f"{stay.patient}.psv").symlink_to((source / f"{stay.patient}.psv").resolve())
    return folders


def validate(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "crsmon.cli", "validate", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    out = Path(args[args.index("--out") + 1])
    return orjson.loads((out / "validation.json").read_bytes())


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--targets", default="high=3%,medium=12%")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    targets = parse_targets(args.targets)
    a, b = halves(args.source, args.out, args.seed)
    print(
        "| calibrated on → replayed | target | burden on the calibration half | "
        "achieved on the other half | its sensitivity 6 h before onset |\n|---|---|---|---|---|"
    )
    for fit, other in ((a, b), (b, a)):
        report = args.out / f"calibrated-on-{fit.name}"
        calibrated = validate(str(fit), "--out", str(report), "--target-burden", args.targets, "--jobs", "2")[
            "calibration"
        ]
        replay = validate(
            str(other),
            "--out",
            str(args.out / f"replayed-{other.name}"),
            "--config",
            str(report / calibrated["config_file"]),
            "--sweep",
            "",
            "--jobs",
            "2",
        )
        for target in targets:
            kind = FIGURE[target.kind]
            own = calibrated["levels"][target.level][kind]["value"]
            there = replay["detectors"][DETECTOR[target.level]]
            sens = there["flagged_at_onset_minus_6h"]
            show = _pct if target.kind == "hours" else (lambda v: f"{v:.2f}/day")
            print(
                f"| {fit.name} → {other.name} | {target} | {show(own)} | "
                f"{show(there[kind]['value'])} | {_pct(sens['value'])} "
                f"({_pct(sens['ci95'][0])}–{_pct(sens['ci95'][1])}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
