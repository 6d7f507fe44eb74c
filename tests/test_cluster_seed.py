"""``Cluster(seed=N)``: every random choice of a cluster is reproducible from its seed."""

from __future__ import annotations

from typing import Any

from minikube_lite import Cluster, VirtualClock

WORKLOAD = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 8
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 20Gi}}
"""


async def run_workload(seed: int | None) -> dict[str, Any]:
    """What a seeded run decides: pod names and their nodes, uids, generated names, events in order."""
    async with Cluster(clock=VirtualClock(start=1_700_000_000), seed=seed) as cluster:
        await cluster.apply(WORKLOAD)
        generated = await cluster.client.create(
            "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cfg-"}}, "default")
        await cluster.wait_for("pvc", "data", phase="Bound")
        await cluster.wait_for("replicasets", "web", predicate=lambda rs: rs.get("status", {}).get("readyReplicas") == 8)
        pods = (await cluster.client.list("pods", "default"))["items"]
        events = sorted((await cluster.client.list("events", "default"))["items"],
                        key=lambda e: int(e["metadata"]["resourceVersion"]))
        pvc = await cluster.client.get("pvc", "data", "default")
        return {
            "placements": sorted((p["metadata"]["name"], p["spec"]["nodeName"]) for p in pods),
            "pod_uids": sorted(p["metadata"]["uid"] for p in pods),
            "generated": generated["metadata"]["name"],
            "volume": pvc["spec"]["volumeName"],
            "events": [(e["involvedObject"]["name"], e["reason"], e["message"]) for e in events],
            # Which worker each pod went to, in scheduling order (names aside): the tie-breaks.
            "node_sequence": [e["message"].rsplit(" ", 1)[-1] for e in events if e["reason"] == "Scheduled"],
        }


async def test_the_same_seed_gives_the_same_names_placements_uids_and_events() -> None:
    first = await run_workload(seed=7)
    second = await run_workload(seed=7)
    assert first == second
    nodes = {node for _, node in first["placements"]}
    assert nodes == {"node1", "node2"}      # ties between the two workers were broken, the same way
    assert first["generated"].startswith("cfg-") and len(first["generated"]) == len("cfg-") + 5


async def test_different_seeds_differ() -> None:
    first = await run_workload(seed=1)
    second = await run_workload(seed=2)
    assert first["node_sequence"] != second["node_sequence"]
    assert first["placements"] != second["placements"]
    assert first["generated"] != second["generated"]
    assert first["pod_uids"] != second["pod_uids"] and first["volume"] != second["volume"]


async def test_unseeded_clusters_stay_random() -> None:
    first = await run_workload(seed=None)
    second = await run_workload(seed=None)
    assert first["pod_uids"] != second["pod_uids"]
    assert first["placements"] != second["placements"]
