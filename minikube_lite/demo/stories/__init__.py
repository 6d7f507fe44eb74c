"""The demo stories, in the course's order: snapshots, the two failures without delayed binding,
then the fix for static (local PV) and dynamic (zone-restricted class) volumes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..runner import Demo
from . import local_pv, snapshot, topology, wrong_place

STORIES: dict[str, Callable[[Demo], Awaitable[None]]] = {
    "snapshot": snapshot.story,
    "wrong-node": wrong_place.wrong_node,
    "wrong-zone": wrong_place.wrong_zone,
    "local-pv": local_pv.story,
    "topology": topology.story,
}
SCENARIOS: tuple[str, ...] = tuple(STORIES)
