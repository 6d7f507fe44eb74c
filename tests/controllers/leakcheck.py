"""A teardown leak check any storage test can share (issue 6 "Done means").

After a test, the cloud's own books must agree with the API: every live cloud disk belongs to
exactly one PV (``spec.csi.volumeHandle``), so a disk with no PV (a leak) or with two PVs (a
double provision) fails, and every Delete-policy PV that was deleted has no disk left (its disk
would otherwise show up as a disk with no PV). Disks being deleted are not counted: they are on
their way out. A test that keeps disks on purpose (Retain, or disks it made itself) passes them
in ``allowed``.

Usage::

    from leakcheck import assert_no_leaks  # tests/controllers is on sys.path under pytest
    await assert_no_leaks(cluster)

or, as a fixture, ``leak_checked_cluster`` below.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest_asyncio

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster

DELETING = "Deleting"


async def leaks(cluster: Cluster, *, allowed: Iterable[str] = ()) -> list[str]:
    """Problems found (empty when the cloud and the API agree)."""
    pvs = (await cluster.client.list("persistentvolumes")).get("items") or []
    handles = Counter(((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle") for pv in pvs)
    ok = set(allowed)
    problems = []
    for disk_id, disk in sorted(cluster.cloud.disks.items()):
        if disk.status == DELETING or disk_id in ok:
            continue
        owners = handles.get(disk_id, 0)
        if owners == 0:
            problems.append(f"disk {disk_id} ({disk.name}, {disk.status}) has no PersistentVolume")
        elif owners > 1:
            problems.append(f"disk {disk_id} ({disk.name}) is the volumeHandle of {owners} PersistentVolumes")
    return problems


async def assert_no_leaks(cluster: Cluster, *, allowed: Iterable[str] = (), settle: bool = True) -> None:
    """Settle the cluster, then fail with every leaked or doubly-owned disk."""
    if settle:
        await cluster.settle()
    problems = await leaks(cluster, allowed=allowed)
    assert not problems, "cloud disk leak check failed:\n  " + "\n  ".join(problems)


@pytest_asyncio.fixture
async def leak_checked_cluster() -> AsyncIterator[Any]:
    """A default cluster on a virtual clock whose teardown runs :func:`assert_no_leaks`."""
    async with Cluster(clock=VirtualClock()) as c:
        yield c
        await assert_no_leaks(c)
