"""The harness's fit and held-out splits as folders, so that `crsmon validate` — the engine
itself, floors and all — can measure each split the way the harness does.

    .venv/bin/python -m bench.deterioration.split_folders SOURCE OUT
    crsmon validate OUT/held --out held-report/

OUT/fit and OUT/held get one symbolic link per stay (nothing is copied, the originals are
never touched); the split is `bench.deterioration.data.split`, the one the fit used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.deterioration.data import read_folder, split


def write_split_folders(source: Path, out: Path) -> dict[str, int]:
    """Link each stay of `source` into out/fit or out/held; returns how many went where."""
    fit, held = split(read_folder(source))
    counts = {}
    for name, stays in (("fit", fit), ("held", held)):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for stay in stays:
            link = folder / f"{stay.patient}.psv"
            link.unlink(missing_ok=True)
            link.symlink_to((source / f"{stay.patient}.psv").resolve())
        counts[name] = len(stays)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a folder of PhysioNet-format .psv stays")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    for name, count in write_split_folders(args.source, args.out).items():
        print(f"{args.out / name}: {count} stays")


if __name__ == "__main__":
    main()
