"""Narration catalogues: every language says everything English says, and ``--lang zh`` tells every story.

Only narration is translated: event messages and object lines stay as the cluster prints them
(upstream English), so the zh run is checked for both.
"""

from __future__ import annotations

import re

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.demo import LANGUAGES, SCENARIOS, catalogue, run_demo
from minikube_lite.demo.narration import flatten, placeholders

#: Story name -> its section in the catalogues.
SECTIONS = {name: name.replace("-", "_") for name in SCENARIOS}


def step_pattern(text: str) -> str:
    """A catalogue text as a regex, its ``{placeholders}`` matching any value."""
    return ".+".join(re.escape(part) for part in re.split(r"\{\w+\}", text))


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_has_every_english_key_with_the_same_placeholders(lang: str) -> None:
    english, other = flatten(catalogue("en").texts), flatten(catalogue(lang).texts)
    assert sorted(other) == sorted(english)
    for key, texts in english.items():
        assert set().union(*map(placeholders, other[key])) == set().union(*map(placeholders, texts)), key


def test_every_story_has_a_title_and_a_section() -> None:
    for lang in LANGUAGES:
        texts = catalogue(lang)
        for name in SCENARIOS:
            assert texts.has(f"titles.{name}") and texts.has(SECTIONS[name]), (lang, name)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown demo language 'fr'"):
        catalogue("fr")


async def test_every_story_in_chinese() -> None:
    lines: list[str] = []
    await run_demo("all", out=lines.append, clock=VirtualClock(), lang="zh")
    zh, en = catalogue("zh"), catalogue("en")
    headers = [i for i, line in enumerate(lines) if line.startswith("=== minikube-lite demo ")]
    assert len(headers) == len(SCENARIOS)
    blocks = {name: lines[start:end] for name, start, end in
              zip(SCENARIOS, headers, [*headers[1:], len(lines)], strict=True)}
    for name, block in blocks.items():
        assert block[0] == f"=== minikube-lite demo {name}: {zh.text(f'titles.{name}')}"
        assert block[1].startswith("集群:master, node1, node2")
        assert re.fullmatch(r"\[t\+\s*[\d.]+s\] 演示结束。", [line for line in block if line][-1])
        # Every step of the story is told, in Chinese, in the catalogue's order.
        steps = [key for key, value in zh.raw(SECTIONS[name]).items() if isinstance(value, dict)]
        headings = [i for i, line in enumerate(block) if re.match(r"\[t\+\s*[\d.]+s\] \d+\. ", line)]
        assert len(headings) == len(steps), name
        for key, at in zip(steps, headings, strict=True):
            text = str(zh.raw(f"{SECTIONS[name]}.{key}.step"))
            assert re.search(step_pattern(text), block[at]), (name, key)
            english = str(en.raw(f"{SECTIONS[name]}.{key}.step"))
            assert not re.search(step_pattern(english), block[at]), (name, key)
    text = "\n".join(lines)
    # Upstream lines stay English.
    for upstream in (
            "Normal  SnapshotReady: Snapshot default/disk-snapshot is ready to use.",
            "Normal  WaitForFirstConsumer: waiting for first consumer to be created before binding",
            "2 node(s) had volume node affinity conflict.",
            "2 node(s) didn't satisfy plugin(s) [VolumeBinding].",
            "Successfully assigned default/local-pod to node1",
            "pvc/app-pvc  Bound  volume=local-pv-node2  10Gi  class=local-immediate",
            "cloud: snapshot s-"):
        assert upstream in text, upstream
    assert "persistentvolumeclaim/local-pvc 的事件:" in lines[lines.index(
        "          pvc/local-pvc  Pending  volume=<none>  class=local-storage") + 1]
    # The stories still reach their end states.
    assert re.search(r"pod/restore-pod  Running  node=node[12]$", text, re.M)
    assert re.search(r"pod/disk-pod-topology  Running  node=node[12]$", text, re.M)
    assert re.search(r"pod/local-pod  Running  node=node1$", text, re.M)
    assert "数据恢复回来了" in text


def test_a_missing_key_falls_back_to_english_and_an_unknown_one_is_named() -> None:
    from minikube_lite.demo.narration import Catalogue

    partial = Catalogue("xx", {"done": "fin."}, fallback=catalogue("en"))
    assert partial.text("done") == "fin."
    assert partial.text("pause") == catalogue("en").text("pause")
    assert partial.lines("topology.selected.step", node="node1") == [
        catalogue("en").text("topology.selected.step", node="node1")]
    with pytest.raises(KeyError, match="'no.such.key' is missing from the 'en' catalogue"):
        partial.text("no.such.key")
