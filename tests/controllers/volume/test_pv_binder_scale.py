"""The PV controller at scale: indexed matching, cache reads, a resync that skips settled pairs, workers."""

from __future__ import annotations

from typing import Any

from _storage_builders import BARE_CONFIG, pod, pv, pvc

from minikube_lite.client.http import HttpClient
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.volume import pv_binder as B
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController

NS = "default"


def controller(c: Any) -> B.PersistentVolumeController:
    return next(x for x in c.controllers if isinstance(x, B.PersistentVolumeController))


async def test_resync_revisits_only_what_is_not_bound_both_ways(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("pv-a", "1Gi"))
        await c.client.create("persistentvolumes", pv("pv-spare", "1Gi"))
        await c.client.create("pvc", pvc("bound", "1Gi", sc=""), NS)
        await c.settle()
        await c.client.create("pvc", pvc("waiting", "5Gi", sc=""), NS)   # nothing that big
        await c.settle()
        assert (await c.client.get("pvc", "bound", NS))["status"]["phase"] == "Bound"
        keys = set(controller(c).resync_keys())
        bound_to = (await c.client.get("pvc", "bound", NS))["spec"]["volumeName"]
        spare = ({"pv-a", "pv-spare"} - {bound_to}).pop()
        assert keys == {B.claim_work_key(NS, "waiting"), B.volume_work_key(spare)}


async def test_matching_sees_only_unbound_volumes_and_the_claims_own(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        for i in range(5):
            await c.client.create("persistentvolumes", pv(f"pv-{i}", "1Gi"))
        for i in range(4):
            await c.client.create("pvc", pvc(f"claim-{i}", "1Gi", sc=""), NS)
        await c.settle()
        ctl = controller(c)
        extra = await c.client.get("pvc", "claim-0", NS)
        candidates = {o["metadata"]["name"] for o in ctl._volume_candidates(extra)}
        own = extra["spec"]["volumeName"]
        free = {o["metadata"]["name"] for o in ctl.volumes.list() if not o["spec"].get("claimRef")}
        assert len(free) == 1 and candidates == free | {own}


async def test_a_claims_pods_come_from_the_index(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("shared", "1Gi", sc=""), NS)
        await c.client.create("pods", pod("b-user", "shared"), NS)
        await c.client.create("pods", pod("a-user", "shared"), NS)
        await c.client.create("pods", pod("other", "elsewhere"), NS)
        await c.settle()
        claim = await c.client.get("pvc", "shared", NS)
        assert controller(c)._non_scheduled_pods(claim) == ["a-user", "b-user"]


async def test_a_claim_pre_bound_to_a_volume_created_after_it_binds_without_a_resync(storage_cluster: Any) -> None:
    """The claim's sync finds no PV in the cache yet; the PV's sync must send the claim back."""
    async with storage_cluster() as c:
        claim = await c.client.create("pvc", pvc("early", "1Gi", sc="", volume_name="late"), NS)
        volume = pv("late", "1Gi")
        volume["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": NS,
                                      "name": "early", "uid": claim["metadata"]["uid"]}
        await c.client.create("persistentvolumes", volume)
        await c.settle(timeout=1)   # well before the 15 s resync
        claim = await c.client.get("pvc", "early", NS)
        assert claim["status"]["phase"] == "Bound"
        assert (await c.client.get("persistentvolumes", "late"))["status"]["phase"] == "Bound"


async def test_one_worker_in_process_and_the_configured_count_otherwise(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        assert controller(c).workers == 1
        remote = B.PersistentVolumeController(HttpClient("http://127.0.0.1:1"), c.clock, config=c.config)
        assert remote.workers == 8   # never started: no request is made


async def test_several_workers_bind_each_claim_once(storage_cluster: Any) -> None:
    """Workers match one claim at a time: no two pick the same free PV, so none conflicts."""
    cfg = {**BARE_CONFIG, "timings": {"pvControllerWorkers": 4}}
    async with storage_cluster(cfg) as c:
        assert controller(c).workers == 4
        n = 24
        for i in range(n):
            await c.client.create("persistentvolumes", pv(f"v{i:02d}", "1Gi"))
        await c.settle()
        for i in range(n + 2):   # two claims too many: they stay Pending
            await c.client.create("pvc", pvc(f"c{i:02d}", "1Gi", sc=""), NS)
        await c.settle()
        claims = (await c.client.list("pvc", NS))["items"]
        bound = [x for x in claims if x["status"]["phase"] == "Bound"]
        assert len(bound) == n and len({x["spec"]["volumeName"] for x in bound}) == n
        assert controller(c).errors == 0   # no two workers picked the same PV
        for volume in (await c.client.list("persistentvolumes"))["items"]:
            ref = volume["spec"]["claimRef"]
            claim = next(x for x in bound if x["metadata"]["name"] == ref["name"])
            assert (claim["metadata"]["uid"], claim["spec"]["volumeName"], volume["status"]["phase"]) == (
                ref["uid"], volume["metadata"]["name"], "Bound")


VERBS = frozenset({"get", "list", "create", "update", "patch", "delete", "delete_collection", "apply"})


class CountingClient:
    """The cluster's own client, noting every request made through it (the watches excepted)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):   # e.g. the shared informers: this client gets its own
            raise AttributeError(name)
        attr = getattr(self.inner, name)
        if name not in VERBS:
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, str(args[0]) if args else ""))
            return await attr(*args, **kwargs)

        return counted


async def test_a_resync_that_changes_nothing_makes_no_request() -> None:
    """Bound pairs, a spare PV and a Released one: syncing them all again reads only the caches."""
    others = [NamespaceController, PVCProtectionController, PVProtectionController]
    async with Cluster(ClusterConfig.from_dict(BARE_CONFIG), clock=VirtualClock(), components=others) as c:
        counting = CountingClient(c.client)
        ctl = B.PersistentVolumeController(counting, c.clock, config=c.config)
        await ctl.start()
        c.controllers.append(ctl)
        for i in range(3):
            await c.client.create("persistentvolumes", pv(f"v{i}", f"{i + 1}Gi"))
        for i in range(2):
            await c.client.create("pvc", pvc(f"c{i}", f"{i + 1}Gi", sc=""), NS)
        await c.settle()
        await c.client.delete("pvc", "c1", NS)   # v1 (Retain) becomes Released and stays so
        await c.settle()
        phases = {v["metadata"]["name"]: v["status"]["phase"]
                  for v in (await c.client.list("persistentvolumes"))["items"]}
        assert phases == {"v0": "Bound", "v1": "Released", "v2": "Available"}
        assert counting.calls, "the controller's writes go through the counting client"

        counting.calls.clear()
        keys = set(ctl.resync_keys())
        assert keys == {B.volume_work_key("v1"), B.volume_work_key("v2")}
        await c.clock.advance(ctl.resync_period)   # the periodic resync
        await c.settle()
        assert counting.calls == []
        everything = {B.claim_work_key(NS, "c0")} | {B.volume_work_key(f"v{i}") for i in range(3)}
        for key in sorted(everything):              # even what the resync skips as settled
            await ctl.reconcile(key)
        assert counting.calls == []
