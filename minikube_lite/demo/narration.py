"""Narration catalogues: what the demo says, per language, kept as data (``narration/<lang>.yaml``).

Why data and not code: the stories decide *what happens*; a catalogue decides *how it is told*.
A translation is then one more file, checked against English by a test (same keys, same
``{placeholders}``), and the story code has no language branches.

Only narration lives here (titles, step headings, notes, labels). What the cluster itself prints,
event messages and kubectl-like object lines, stays upstream English, as a real cluster prints it.
"""

from __future__ import annotations

import functools
import string
from importlib import resources
from typing import Any

import yaml

DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "zh")


class Catalogue:
    """One language's texts, looked up by dotted key (``topology.fix.step``)."""

    def __init__(self, lang: str, texts: dict[str, Any], fallback: Catalogue | None = None) -> None:
        self.lang = lang
        self.texts = texts
        self.fallback = fallback

    def raw(self, key: str) -> Any:
        node: Any = self.texts
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if self.fallback is not None:
                    return self.fallback.raw(key)
                raise KeyError(f"narration key {key!r} is missing from the {self.lang!r} catalogue")
            node = node[part]
        return node

    def has(self, key: str) -> bool:
        try:
            self.raw(key)
        except KeyError:
            return False
        return True

    def lines(self, key: str, **values: object) -> list[str]:
        """A text (one string or a list of strings) with its ``{placeholders}`` filled."""
        text = self.raw(key)
        items = text if isinstance(text, list) else [text]
        return [str(item).format(**values) for item in items]

    def text(self, key: str, **values: object) -> str:
        return " ".join(self.lines(key, **values))


def flatten(texts: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """``{dotted key: [strings]}``, for comparing catalogues."""
    out: dict[str, list[str]] = {}
    for key, value in texts.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _read(lang: str) -> dict[str, Any]:
    source = resources.files(__package__).joinpath("narration", f"{lang}.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"narration catalogue {lang!r} is not a mapping")
    return data


@functools.cache
def catalogue(lang: str = DEFAULT_LANGUAGE) -> Catalogue:
    """The catalogue for ``lang``; keys it lacks fall back to English."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown demo language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    fallback = None if lang == DEFAULT_LANGUAGE else catalogue(DEFAULT_LANGUAGE)
    return Catalogue(lang, _read(lang), fallback)
