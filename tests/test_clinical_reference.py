"""docs/clinical-reference.md lists every setting with its default and source, and keeps the
project's own paths out of it (users read it without the source tree)."""

from pathlib import Path

from monitor.config import EngineConfig, describe_settings

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "clinical-reference.md"


def shown(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{name} {number:g}" for name, number in value.items())
    return str(value)


def test_every_setting_is_documented_with_its_default():
    text = REFERENCE.read_text()
    for row in describe_settings(EngineConfig()):
        assert f"| `{row['name']}` | {shown(row['default'])} |" in text, row["name"]


def test_every_setting_names_a_source():
    for row in describe_settings(EngineConfig()):
        assert len(row["source"]) > 15, row["name"]
