"""Reading a configuration file: every problem (unreadable file, bad YAML, a field that does not
validate) becomes one :class:`ConfigError` whose message names the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..configmodel import format_validation_error

__all__ = ["ConfigError", "read_text", "yaml_mapping", "validated"]

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the field and why."""


def read_text(path: Path) -> str:
    """The file's text; a missing, unreadable or non-UTF-8 file is a ConfigError."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read config file: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None


def yaml_mapping(text: str, source: str, sections: str) -> dict[str, Any]:
    """The YAML document ``text`` as a mapping (empty for an empty document); ``sections`` lists
    the top-level keys the error for a non-mapping document suggests."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}:{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping ({sections})")
    return data


def validated(model: type[M], data: dict[str, Any], source: str) -> M:
    """``data`` as ``model``; a validation error becomes a ConfigError naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + format_validation_error(exc)) from None
