"""What was wrong with the input: named, counted, and never a reason to stop the run.

A hospital's export has bad rows, renamed columns, patients without an outcome. Each is counted
by kind, and the first few of each kind are kept word for word, saying what was wrong and what
was done with it, for the report and the terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

EXAMPLES_KEPT = 10


@dataclass(slots=True)
class Problems:
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        kept = self.examples.setdefault(kind, [])
        if len(kept) < EXAMPLES_KEPT:
            kept.append(message)

    def merge(self, other: "Problems") -> None:
        self.counts.update(other.counts)
        for kind, messages in other.examples.items():
            kept = self.examples.setdefault(kind, [])
            kept.extend(messages[: EXAMPLES_KEPT - len(kept)])

    def as_json(self) -> dict:
        return {
            kind: {"count": count, "examples": self.examples.get(kind, [])}
            for kind, count in sorted(self.counts.items())
        }

    def summary_lines(self) -> list[str]:
        lines = []
        for kind, count in sorted(self.counts.items()):
            first = self.examples.get(kind, [""])[0]
            lines.append(f"{count:,} × {kind}" + (f" — e.g. {first}" if first else ""))
        return lines
