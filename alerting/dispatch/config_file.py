"""Reading the dispatcher's YAML file, and saying on which line it is wrong.

YAML rather than TOML because PyYAML keeps the position of every node, so a problem found by
validation (not only a syntax error) can be reported as `dispatch.yaml:14: ...`. Duplicate keys
are an error too: PyYAML would otherwise keep the last one without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, cast

import yaml
from pydantic import ValidationError

from alerting.dispatch.config import DispatchConfig, reference_problems

Position = tuple[Any, ...]


class ConfigError(ValueError):
    """The configuration cannot be used; `str()` lists every problem with its line."""


class _Document:
    """Plain Python data plus the line of each value, keyed by its path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[Position, int] = {}
        self.problems: list[str] = []

    def convert(self, node: yaml.Node, path: Position) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node, path + ("<key>",))
                if key in result:
                    self.problems.append(
                        f"{self.source}:{key_node.start_mark.line + 1}: {key!r} is given twice "
                        f"in the same block (also on line {self.lines[path + (key,)]})"
                    )
                result[key] = self.convert(value_node, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]
        return _scalar(cast(yaml.ScalarNode, node))  # compose() makes no other kind of node

    def line_of(self, path: Position) -> int | None:
        """The line of the deepest part of `path` that exists in the file."""
        known: Position = ()
        for part in path:
            if known + (part,) in self.lines:
                known = known + (part,)
        return self.lines.get(known)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing":
        return f"{location} is required"
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown setting (check its spelling in docs/dispatch.md)"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    plain = isinstance(value, (str, int, float)) and error["type"] != "value_error"
    shown = f" (got {value!r})" if plain and location else ""
    return f"{location + ': ' if location else ''}{message}{shown}"


def parse_config(text: str, source: str = "<config>") -> DispatchConfig:
    """A validated configuration from YAML text, or a ConfigError naming every bad line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    if root is None:
        raise ConfigError(f"{source}: the file is empty; see docs/dispatch.md for an example")
    document = _Document(source)
    data = document.convert(root, ())
    if document.problems:
        raise ConfigError("\n".join(document.problems))
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the top level must be a mapping of settings")
    try:
        config = DispatchConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            "\n".join(
                f"{source}:{document.line_of(item['loc']) or 1}: {_describe(item)}"
                for item in map(_as_written, error.errors(include_url=False))
            )
        ) from None
    problems = reference_problems(config)
    if problems:
        raise ConfigError("\n".join(f"{source}:{document.line_of(path) or 1}: {message}" for path, message in problems))
    return config


def _as_written(error: Mapping[str, Any]) -> dict[str, Any]:
    """pydantic's error with its location as the YAML spells it: no union tag, no aliases."""
    loc = tuple("continue" if part == "continue_" else part for part in error["loc"])
    if len(loc) > 2 and loc[0] == "receivers" and loc[2] in ("webhook", "pagerduty", "slack"):
        loc = loc[:2] + loc[3:]
    return {**error, "loc": loc}


def load_config(path: str | Path) -> DispatchConfig:
    """The configuration in the file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the dispatch configuration {path}: {error.strerror}") from None
    return parse_config(text, str(path))
