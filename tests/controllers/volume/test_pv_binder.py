"""The PV controller (storage.md §1), through the API: tests are named after the rule they check.

Only the PV and protection controllers run here (no scheduler, no provisioner), so every state
a test sees was written by the controller under test.
"""

from __future__ import annotations

from typing import Any

import pytest
from _storage_builders import BARE_CONFIG, events, pod, pv, pvc, reasons, storage_class

from minikube_lite.clock import VirtualClock
from minikube_lite.controllers.volume import pv_binder as B
from minikube_lite.kube import names
from minikube_lite.kube.volumes import claim_reference

JSON = dict[str, Any]
NS = "default"

EXT_MSG = ("Waiting for a volume to be created either by the external provisioner 'example.com/csi' or manually "
           "by the system administrator. If volume creation is delayed, please verify that the provisioner is "
           "running and correctly registered.")


async def get_pvc(c: Any, name: str) -> JSON:
    return await c.client.get("pvc", name, NS)


async def get_pv(c: Any, name: str) -> JSON:
    return await c.client.get("persistentvolumes", name)


async def advance(c: Any, seconds: float) -> None:
    assert isinstance(c.clock, VirtualClock)
    await c.settle()
    await c.clock.advance(seconds)
    await c.settle()


# ---------------------------------------------------------------- §1.3 matching


async def test_1_3_smallest_fit(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        for name, size in (("pv-10", "10Gi"), ("pv-2", "2Gi"), ("pv-1", "512Mi"), ("pv-5", "5Gi")):
            await c.client.create("persistentvolumes", pv(name, size))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["spec"]["volumeName"] == "pv-2"
        assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}}
        assert (await get_pv(c, "pv-1"))["status"]["phase"] == "Available"


async def test_1_3_class_must_match_and_empty_matches_empty(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("gold", "1Gi", sc="gold"))
        await c.client.create("persistentvolumes", pv("none", "5Gi", sc=""))
        await c.client.create("pvc", pvc("classless", "1Gi", sc=""), NS)
        await c.client.create("pvc", pvc("silver", "1Gi", sc="silver"), NS)
        await c.settle()
        assert (await get_pvc(c, "classless"))["spec"]["volumeName"] == "none"
        silver = await get_pvc(c, "silver")
        assert silver["status"]["phase"] == "Pending" and not silver["spec"].get("volumeName")


async def test_1_3_volume_mode_must_match(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("block", "1Gi", volume_mode="Block"))
        await c.client.create("persistentvolumes", pv("fs", "9Gi"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.client.create("pvc", pvc("raw", "1Gi", sc="", volume_mode="Block"), NS)
        await c.settle()
        assert (await get_pvc(c, "claim"))["spec"]["volumeName"] == "fs"
        assert (await get_pvc(c, "raw"))["spec"]["volumeName"] == "block"


async def test_1_3_label_selector(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("small-fast", "1Gi", labels={"tier": "fast"}))
        await c.client.create("persistentvolumes", pv("small-slow", "1Gi", labels={"tier": "slow"}))
        selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["slow"]}]}
        await c.client.create("pvc", pvc("claim", "1Gi", sc="", selector=selector), NS)
        await c.settle()
        assert (await get_pvc(c, "claim"))["spec"]["volumeName"] == "small-slow"


async def test_1_3_access_modes_fewest_mode_set_first(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        # The RWO-only set is tried before the RWO+RWX set, even though its PV is larger.
        await c.client.create("persistentvolumes", pv("rwo-big", "10Gi", modes=["ReadWriteOnce"]))
        await c.client.create("persistentvolumes", pv("both-small", "1Gi", modes=["ReadWriteOnce", "ReadWriteMany"]))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.client.create("pvc", pvc("shared", "1Gi", sc="", modes=["ReadWriteMany"]), NS)
        await c.settle()
        assert (await get_pvc(c, "claim"))["spec"]["volumeName"] == "rwo-big"
        assert (await get_pvc(c, "shared"))["spec"]["volumeName"] == "both-small"


async def test_1_3_access_modes_must_be_offered(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("rwo", "1Gi", modes=["ReadWriteOnce"]))
        await c.client.create("pvc", pvc("rwx", "1Gi", sc="", modes=["ReadWriteMany"]), NS)
        await c.settle()
        assert (await get_pvc(c, "rwx"))["status"]["phase"] == "Pending"


async def test_1_3_too_small_and_deleting_volumes_are_skipped(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("tiny", "1Mi"))
        held = pv("held", "1Gi")
        held["metadata"]["finalizers"] = ["example.com/hold"]
        await c.client.create("persistentvolumes", held)
        await c.settle()
        await c.client.delete("persistentvolumes", "held")
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Pending"


async def test_1_3_claim_ref_to_another_claim_is_skipped(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        other = {"kind": "PersistentVolumeClaim", "namespace": NS, "name": "other", "apiVersion": "v1"}
        await c.client.create("persistentvolumes", pv("reserved", "1Gi", claim_ref=other))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Pending"
        assert (await get_pv(c, "reserved"))["status"]["phase"] == "Available"


async def test_1_3_pre_bound_volume_wins_over_smaller(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        ref = {"kind": "PersistentVolumeClaim", "namespace": NS, "name": "claim", "apiVersion": "v1"}
        await c.client.create("persistentvolumes", pv("small", "1Gi"))
        await c.client.create("persistentvolumes", pv("mine", "8Gi", claim_ref=ref))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["spec"]["volumeName"] == "mine"
        volume = await get_pv(c, "mine")
        # Pre-bound by the user: no bound-by-controller on the PV, only the UID filled in.
        assert names.ANN_BOUND_BY_CONTROLLER not in (volume["metadata"].get("annotations") or {})
        assert volume["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
        assert claim["metadata"]["annotations"] == {names.ANN_BOUND_BY_CONTROLLER: "yes", names.ANN_BIND_COMPLETED: "yes"}


async def test_1_3_delay_binding_skips_unbound_volumes(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("local", "kubernetes.io/no-provisioner",
                                                              mode="WaitForFirstConsumer", reclaim="Retain"))
        await c.client.create("persistentvolumes", pv("local-pv", "5Gi", sc="local", node="node1"))
        await c.client.create("pvc", pvc("claim", "5Gi", sc="local"), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["status"]["phase"] == "Pending"
        assert names.ANN_STORAGE_PROVISIONER not in (claim["metadata"].get("annotations") or {})
        assert (await get_pv(c, "local-pv"))["status"]["phase"] == "Available"


async def test_1_3_delay_binding_binds_volume_pre_bound_by_scheduler(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("local", "kubernetes.io/no-provisioner",
                                                              mode="WaitForFirstConsumer", reclaim="Retain"))
        await c.client.create("persistentvolumes", pv("local-pv", "5Gi", sc="local", node="node1"))
        claim = await c.client.create("pvc", pvc("claim", "5Gi", sc="local"), NS)
        await c.settle()
        # What the scheduler's PreBind writes (storage.md §7b step 4).
        volume = await get_pv(c, "local-pv")
        volume["spec"]["claimRef"] = claim_reference(claim)
        volume["metadata"].setdefault("annotations", {})[names.ANN_BOUND_BY_CONTROLLER] = "yes"
        await c.client.update("persistentvolumes", volume)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["spec"]["volumeName"] == "local-pv"
        assert claim["status"]["phase"] == "Bound" and claim["status"]["capacity"] == {"storage": "5Gi"}
        assert claim["metadata"]["annotations"] == {names.ANN_BOUND_BY_CONTROLLER: "yes", names.ANN_BIND_COMPLETED: "yes"}
        assert (await get_pv(c, "local-pv"))["status"]["phase"] == "Bound"


# ---------------------------------------------------------------- §1.4 unbound claims without volumeName


async def test_1_4_wait_for_first_consumer_event_repeats_on_resync(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", pvc("claim", sc="topo"), NS)
        await c.settle()
        evs = await events(c.client, "claim")
        assert [(e["type"], e["reason"], e["message"]) for e in evs] == [
            ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")]
        assert evs[0]["source"] == {"component": "persistentvolume-controller"}
        first = evs[0]["count"]
        await advance(c, 15)
        await advance(c, 15)
        evs = await events(c.client, "claim")
        assert len(evs) == 1 and evs[0]["count"] >= first + 2
        claim = await get_pvc(c, "claim")
        assert claim["status"] == {"phase": "Pending"}
        assert names.ANN_STORAGE_PROVISIONER not in (claim["metadata"].get("annotations") or {})


async def test_1_4_wait_for_pod_scheduled(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", pvc("claim", sc="topo"), NS)
        await c.settle()
        await c.client.create("pods", pod("app", "claim"), NS)
        await advance(c, 15)  # the PV controller notices pods on its periodic resync, as upstream
        assert (await reasons(c.client, "claim"))[-1] == (
            "Normal", "WaitForPodScheduled", "waiting for pod app to be scheduled")
        await c.client.create("pods", pod("app2", "claim"), NS)
        await c.client.create("pods", pod("done", "claim", node="node1"), NS)  # scheduled: not listed
        await advance(c, 15)
        assert (await reasons(c.client, "claim"))[-1] == (
            "Normal", "WaitForPodScheduled", "waiting for pods app,app2 to be scheduled")


async def test_1_4_selected_node_starts_external_provisioning(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", pvc("claim", sc="topo"), NS)
        await c.settle()
        await c.client.patch("pvc", "claim", {"metadata": {"annotations": {names.ANN_SELECTED_NODE: "node1"}}}, NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        anns = claim["metadata"]["annotations"]
        assert anns[names.ANN_STORAGE_PROVISIONER] == anns[names.ANN_BETA_STORAGE_PROVISIONER] == "example.com/csi"
        assert (await reasons(c.client, "claim"))[-1] == ("Normal", "ExternalProvisioning", EXT_MSG)


async def test_1_4_no_class_and_no_volume_is_failed_binding(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("claim", sc=""), NS)
        await c.settle()
        assert await reasons(c.client, "claim") == [
            ("Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set")]
        assert (await get_pvc(c, "claim"))["status"] == {"phase": "Pending"}


async def test_1_4_retroactive_default_class(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("claim"), NS)  # no class, no default class yet
        await c.settle()
        assert "storageClassName" not in (await get_pvc(c, "claim"))["spec"]
        await c.client.create("storageclasses", storage_class("std", default=True))
        await advance(c, 15)
        claim = await get_pvc(c, "claim")
        assert claim["spec"]["storageClassName"] == "std"
        assert claim["metadata"]["annotations"][names.ANN_STORAGE_PROVISIONER] == "example.com/csi"


# ---------------------------------------------------------------- §1.5 claims pre-bound by volumeName


async def test_1_5_requested_volume_missing_stays_pending(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("claim", sc="", volume_name="nope"), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["status"] == {"phase": "Pending"} and await reasons(c.client, "claim") == []
        await c.client.create("persistentvolumes", pv("nope", "1Gi"))
        await advance(c, 15)  # a new PV does not enqueue claims: the claim binds on its next resync
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Bound"


@pytest.mark.parametrize(("volume", "claim", "why"), [
    (pv("v", "1Mi"), pvc("claim", "1Gi", sc="", volume_name="v"), "requested PV is too small"),
    (pv("v", "1Gi", sc="gold"), pvc("claim", "1Gi", sc="", volume_name="v"), "storageClassName does not match"),
    (pv("v", "1Gi", volume_mode="Block"), pvc("claim", "1Gi", sc="", volume_name="v"), "incompatible volumeMode"),
    (pv("v", "1Gi"), pvc("claim", "1Gi", sc="", volume_name="v", modes=["ReadOnlyMany"]), "incompatible accessMode"),
])
async def test_1_5_volume_mismatch(storage_cluster: Any, volume: JSON, claim: JSON, why: str) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", volume)
        await c.client.create("pvc", claim, NS)
        await c.settle()
        assert await reasons(c.client, "claim") == [
            ("Warning", "VolumeMismatch", f'Cannot bind to requested volume "v": {why}')]
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Pending"


async def test_1_5_requested_volume_is_bound(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("big", "5Gi"))
        await c.client.create("persistentvolumes", pv("small", "1Gi"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc="", volume_name="big"), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["status"]["phase"] == "Bound" and claim["spec"]["volumeName"] == "big"
        # The user chose the volume: bind-completed only, no bound-by-controller on the claim.
        assert claim["metadata"]["annotations"] == {names.ANN_BIND_COMPLETED: "yes"}
        volume = await get_pv(c, "big")
        assert volume["metadata"]["annotations"] == {names.ANN_BOUND_BY_CONTROLLER: "yes"}


async def test_1_5_requested_volume_bound_elsewhere(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "1Gi"))
        await c.client.create("pvc", pvc("first", "1Gi", sc=""), NS)
        await c.settle()
        assert (await get_pvc(c, "first"))["spec"]["volumeName"] == "v"
        await c.client.create("pvc", pvc("claim", "1Gi", sc="", volume_name="v"), NS)
        await c.settle()
        assert await reasons(c.client, "claim") == [
            ("Warning", "FailedBinding", 'volume "v" already bound to a different claim.')]
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Pending"


# ---------------------------------------------------------------- §1.6 bound claims


async def test_1_6_claim_lost_when_volume_disappears(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "1Gi"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        await c.client.delete("persistentvolumes", "v")
        await c.settle()
        assert (await get_pv(c, "v"))["metadata"]["deletionTimestamp"]  # pv-protection holds it while Bound
        await c.client.patch("persistentvolumes", "v", {"metadata": {"finalizers": None}})
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["status"] == {"phase": "Lost"}
        lost = [r for r in await reasons(c.client, "claim") if r[1] == "ClaimLost"]
        assert lost == [("Warning", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")]
        await advance(c, 15)  # the event is emitted only when the phase changes
        assert len([r for r in await reasons(c.client, "claim") if r[1] == "ClaimLost"]) == 1
        assert (await events(c.client, "claim"))[-1]["count"] == 1


async def test_1_6_claim_misbound(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "1Gi"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        volume = await get_pv(c, "v")
        volume["spec"]["claimRef"]["uid"] = "00000000-0000-0000-0000-000000000000"
        await c.client.update("persistentvolumes", volume)
        await advance(c, 15)
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Lost"
        assert ("Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly") \
            in await reasons(c.client, "claim")


async def test_1_6_bound_claim_rebinds_unbound_volume(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "1Gi"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        volume = await get_pv(c, "v")
        volume["spec"].pop("claimRef")
        await c.client.update("persistentvolumes", volume)
        await advance(c, 15)
        volume = await get_pv(c, "v")
        assert volume["spec"]["claimRef"]["name"] == "claim" and volume["status"]["phase"] == "Bound"


# ---------------------------------------------------------------- §1.7 bind


async def test_1_7_bind_four_writes_in_order(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "2Gi"))
        await c.settle()
        writes: list[tuple[str, str]] = []

        def record(op: str, rt: Any, obj: JSON, old: JSON | None) -> None:
            if op != "update" or old is None or rt.kind not in ("PersistentVolume", "PersistentVolumeClaim"):
                return
            kind = "PV" if rt.kind == "PersistentVolume" else "PVC"
            part = "status" if obj.get("spec") == old.get("spec") and obj["metadata"].get("annotations") == \
                old["metadata"].get("annotations") else "spec"
            writes.append((kind, part))

        c.engine.on_write.append(record)
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        assert writes == [("PV", "spec"), ("PV", "status"), ("PVC", "spec"), ("PVC", "status")]
        volume = await get_pv(c, "v")
        claim = await get_pvc(c, "claim")
        assert volume["spec"]["claimRef"] == {
            "kind": "PersistentVolumeClaim", "namespace": NS, "name": "claim", "uid": claim["metadata"]["uid"],
            "apiVersion": "v1", "resourceVersion": volume["spec"]["claimRef"]["resourceVersion"]}
        assert volume["metadata"]["annotations"] == {names.ANN_BOUND_BY_CONTROLLER: "yes"}
        assert volume["status"]["phase"] == "Bound"
        assert claim["metadata"]["annotations"] == {names.ANN_BOUND_BY_CONTROLLER: "yes", names.ANN_BIND_COMPLETED: "yes"}
        assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}}


async def test_1_7_provisioned_volume_binds_without_bound_by_controller(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("csi"))
        claim = await c.client.create("pvc", pvc("src", "1Gi", sc="csi"), NS)
        await c.settle()
        # What an external provisioner creates (storage.md §7a step 2).
        name = f"pvc-{claim['metadata']['uid']}"
        await c.client.create("persistentvolumes", pv(
            name, "1Gi", sc="csi", reclaim="Delete", claim_ref=claim_reference(claim),
            annotations={names.ANN_PROVISIONED_BY: "example.com/csi"},
            csi={"driver": "csi.example.com", "volumeHandle": "h-1"}))
        await c.settle()
        volume = await get_pv(c, name)
        assert names.ANN_BOUND_BY_CONTROLLER not in volume["metadata"]["annotations"]
        assert volume["status"]["phase"] == "Bound"
        claim = await get_pvc(c, "src")
        assert claim["spec"]["volumeName"] == name
        assert claim["metadata"]["annotations"][names.ANN_BIND_COMPLETED] == "yes"
        assert claim["metadata"]["annotations"][names.ANN_BOUND_BY_CONTROLLER] == "yes"
        assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}


# ---------------------------------------------------------------- §1.8 syncVolume


async def test_1_8_volume_without_claim_becomes_available(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        created = await c.client.create("persistentvolumes", pv("v", "1Gi"))
        assert created["status"]["phase"] == "Pending"
        await c.settle()
        assert (await get_pv(c, "v"))["status"]["phase"] == "Available"


async def test_1_8_released_on_claim_delete_and_retain_keeps_claim_ref(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("v", "1Gi", reclaim="Retain"))
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await c.settle()
        await c.client.delete("pvc", "claim", NS)
        await c.settle()
        volume = await get_pv(c, "v")
        assert volume["status"]["phase"] == "Released"
        assert volume["spec"]["claimRef"]["name"] == "claim"
        # Not rebindable: a new claim with the same name does not get it back (new UID).
        await c.client.create("pvc", pvc("claim", "1Gi", sc=""), NS)
        await advance(c, 15)
        assert (await get_pvc(c, "claim"))["status"]["phase"] == "Pending"
        assert (await get_pv(c, "v"))["status"]["phase"] == "Released"


async def test_1_8_controller_bound_volume_unbound_when_claim_bound_elsewhere(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("a", "1Gi"))
        await c.client.create("persistentvolumes", pv("b", "1Gi"))
        claim = await c.client.create("pvc", pvc("claim", "1Gi", sc="", volume_name="a"), NS)
        await c.settle()
        # A controller had also reserved "b" for this claim.
        volume = await get_pv(c, "b")
        volume["spec"]["claimRef"] = claim_reference(claim)
        volume["metadata"]["annotations"] = {names.ANN_BOUND_BY_CONTROLLER: "yes"}
        await c.client.update("persistentvolumes", volume)
        await c.settle()
        volume = await get_pv(c, "b")
        assert "claimRef" not in volume["spec"] and not volume["metadata"].get("annotations")
        assert volume["status"]["phase"] == "Available"


async def test_1_8_user_pre_bound_volume_only_loses_uid(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("a", "1Gi"))
        claim = await c.client.create("pvc", pvc("claim", "1Gi", sc="", volume_name="a"), NS)
        await c.settle()
        await c.client.create("persistentvolumes", pv("b", "1Gi", claim_ref=claim_reference(claim)))
        await c.settle()
        volume = await get_pv(c, "b")
        assert volume["spec"]["claimRef"]["name"] == "claim" and not volume["spec"]["claimRef"].get("uid")
        assert volume["status"]["phase"] == "Available"


async def test_1_8_provisioned_delete_volume_released_when_claim_bound_elsewhere(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("a", "1Gi"))
        claim = await c.client.create("pvc", pvc("claim", "1Gi", sc="", volume_name="a"), NS)
        await c.settle()
        await c.client.create("persistentvolumes", pv(
            "extra", "1Gi", reclaim="Delete", claim_ref=claim_reference(claim),
            annotations={names.ANN_PROVISIONED_BY: "example.com/csi"},
            csi={"driver": "csi.example.com", "volumeHandle": "h"}))
        await c.settle()
        volume = await get_pv(c, "extra")
        assert volume["status"]["phase"] == "Released"  # left for the external deleter
        assert volume["spec"]["claimRef"]["name"] == "claim"


async def test_1_8_volume_mode_mismatch_events(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        claim = await c.client.create("pvc", pvc("claim", "1Gi", sc="x"), NS)
        await c.client.create("persistentvolumes", pv("v", "1Gi", sc="x", volume_mode="Block",
                                                      claim_ref=claim_reference(claim)))
        await c.settle()
        assert ("Warning", "VolumeMismatch", 'Cannot bind PersistentVolume "v" to requested PersistentVolumeClaim '
                                             "due to incompatible volumeMode.") in await reasons(c.client, "claim")
        assert ("Warning", "VolumeMismatch", 'Cannot bind PersistentVolume to requested PersistentVolumeClaim '
                                             '"claim" due to incompatible volumeMode.') in await reasons(c.client, "v")


# ---------------------------------------------------------------- §1.9 provisionClaim


async def test_1_9_external_provisioning_annotations_and_event(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("csi"))
        await c.client.create("pvc", pvc("claim", sc="csi"), NS)
        await c.settle()
        claim = await get_pvc(c, "claim")
        assert claim["metadata"]["annotations"] == {names.ANN_STORAGE_PROVISIONER: "example.com/csi",
                                                    names.ANN_BETA_STORAGE_PROVISIONER: "example.com/csi"}
        assert claim["status"] == {"phase": "Pending"}
        evs = await events(c.client, "claim")
        assert {(e["type"], e["reason"], e["message"]) for e in evs} == {("Normal", "ExternalProvisioning", EXT_MSG)}
        count = evs[0]["count"]
        await advance(c, 15)
        assert (await events(c.client, "claim"))[0]["count"] > count  # repeats on every sync (§6.2)


async def test_1_9_no_provisioner_class_immediate(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("storageclasses", storage_class("manual", "kubernetes.io/no-provisioner"))
        await c.client.create("pvc", pvc("claim", sc="manual"), NS)
        await c.settle()
        assert set(await reasons(c.client, "claim")) == {
            ("Warning", "ProvisioningFailed", "no volume plugin matched name: kubernetes.io/no-provisioner")}
        assert not (await get_pvc(c, "claim"))["metadata"].get("annotations")


async def test_1_9_missing_class(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("claim", sc="zonal"), NS)
        await c.settle()
        assert set(await reasons(c.client, "claim")) == {
            ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "zonal" not found')}
        # Retried on every resync; once the class exists the claim is handed to its provisioner.
        await c.client.create("storageclasses", storage_class("zonal"))
        await advance(c, 15)
        assert (await reasons(c.client, "claim"))[-1] == ("Normal", "ExternalProvisioning", EXT_MSG)


async def test_1_2_missing_class_is_immediate_even_for_wffc_claim(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("pvc", pvc("claim", sc="gone"), NS)
        await c.client.create("persistentvolumes", pv("v", "1Gi", sc="gone"))
        await advance(c, 15)
        # With the class missing the claim is Immediate, so the Available PV binds at once.
        assert (await get_pvc(c, "claim"))["spec"]["volumeName"] == "v"


# ---------------------------------------------------------------- §1.10 reclaim


async def _release(c: Any, volume: JSON) -> None:
    await c.client.create("persistentvolumes", volume)
    await c.client.create("pvc", pvc("claim", "1Gi", sc=volume["spec"]["storageClassName"]), NS)
    await c.settle()
    assert (await get_pvc(c, "claim"))["status"]["phase"] == "Bound"
    await c.client.delete("pvc", "claim", NS)
    await c.settle()


async def test_1_10_delete_without_deleter_fails(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await _release(c, pv("v", "1Gi", reclaim="Delete"))
        volume = await get_pv(c, "v")
        message = 'error getting deleter volume plugin for volume "v": no deletable volume plugin matched'
        assert volume["status"]["phase"] == "Failed" and volume["status"]["message"] == message
        assert ("Warning", "VolumeFailedDelete", message) in await reasons(c.client, "v")


async def test_1_10_delete_of_csi_volume_is_left_to_external_deleter(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await _release(c, pv("v", "1Gi", reclaim="Delete", csi={"driver": "csi.example.com", "volumeHandle": "h"}))
        volume = await get_pv(c, "v")
        assert volume["status"]["phase"] == "Released" and "message" not in volume["status"]
        assert await reasons(c.client, "v") == []


async def test_1_10_retain_stays_released(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await _release(c, pv("v", "1Gi", reclaim="Retain"))
        await advance(c, 15)
        volume = await get_pv(c, "v")
        assert volume["status"]["phase"] == "Released" and volume["spec"]["claimRef"]["name"] == "claim"
        # An admin clears the claimRef: the volume is Available again.
        await c.client.patch("persistentvolumes", "v", {"spec": {"claimRef": None}})
        await c.settle()
        assert (await get_pv(c, "v"))["status"]["phase"] == "Available"


async def test_1_10_recycle_is_failed(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await _release(c, pv("v", "1Gi", reclaim="Recycle"))
        volume = await get_pv(c, "v")
        assert volume["status"]["phase"] == "Failed"
        assert ("Warning", "VolumeFailedRecycle", "No recycler plugin found for the volume!") in \
            await reasons(c.client, "v")


# ---------------------------------------------------------------- §1.1 loop


async def test_1_1_resync_period_is_configuration(storage_cluster: Any) -> None:
    cfg = {**BARE_CONFIG, "timings": {"pvControllerResync": "60s"}}
    async with storage_cluster(cfg) as c:
        controller = next(x for x in c.controllers if isinstance(x, B.PersistentVolumeController))
        assert controller.resync_period == 60.0
        await c.client.create("storageclasses", storage_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", pvc("claim", sc="topo"), NS)
        await c.settle()
        count = (await events(c.client, "claim"))[0]["count"]
        await advance(c, 30)
        assert (await events(c.client, "claim"))[0]["count"] == count
        await advance(c, 30)
        assert (await events(c.client, "claim"))[0]["count"] == count + 1


# ---------------------------------------------------------------- concurrency


async def test_1_3_one_volume_two_claims_binds_exactly_one(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        await c.client.create("persistentvolumes", pv("only", "1Gi"))
        await c.settle()
        await c.client.create("pvc", pvc("a", "1Gi", sc=""), NS)
        await c.client.create("pvc", pvc("b", "1Gi", sc=""), NS)
        await c.settle()
        phases = sorted([(await get_pvc(c, n))["status"]["phase"] for n in ("a", "b")])
        assert phases == ["Bound", "Pending"]
        volume = await get_pv(c, "only")
        winner = await get_pvc(c, volume["spec"]["claimRef"]["name"])
        assert winner["metadata"]["uid"] == volume["spec"]["claimRef"]["uid"]
        assert winner["spec"]["volumeName"] == "only"


async def test_1_3_many_claims_many_volumes_each_bound_once(storage_cluster: Any) -> None:
    async with storage_cluster() as c:
        n = 40
        for i in range(n):
            await c.client.create("persistentvolumes", pv(f"v{i:02d}", f"{i + 1}Gi"))
        await c.settle()
        for i in range(n):
            await c.client.create("pvc", pvc(f"c{i:02d}", "1Gi", sc=""), NS)
        await c.settle()
        claims = (await c.client.list("pvc", NS))["items"]
        assert all(x["status"]["phase"] == "Bound" for x in claims)
        assert len({x["spec"]["volumeName"] for x in claims}) == n
        for volume in (await c.client.list("persistentvolumes"))["items"]:
            assert volume["status"]["phase"] == "Bound"
