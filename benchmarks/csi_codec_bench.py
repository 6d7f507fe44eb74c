"""CSI over HTTP, the codec alone: what one CreateVolume of a large cluster costs both processes.

Run by hand (a few seconds):

    python benchmarks/csi_codec_bench.py [--nodes 5000] [--calls 50]

The request is what the external-provisioner sends for a claim in a cluster of ``--nodes``
nodes whose driver reports a per-instance topology key (the cloud-disk driver: instance, zone,
region): a requisite of one term per node and the preferred list rotated to the selected node,
so ``2 x nodes`` terms. It prints milliseconds per call (best of three rounds of ``--calls``
calls) for:

- ``plain``: the client writing the request (``encode`` + ``orjson.dumps``) and the server
  reading it (``orjson.loads`` + ``decode``), every term inline; this also runs against a tree
  from before the compiled codec (``PYTHONPATH=<old tree>``), for a before/after figure;
- ``term lists``: the same through the codecs ``RemoteCsiDriver`` and ``csi_app`` use, once the
  requisite was uploaded (each claim's own preferred rotation, the shared requisite list), and
  the first call, which uploads the list.

CPU time of this process (``time.process_time``), which the load of a shared machine moves much
less than wall time.

Printed on the 2-core VM (Python 3.11.7, load average 6-7 from other jobs), ms per call,
client encode + server decode, against the tree before the compiled codec (commit 59fa289):

| nodes (terms) | before: plain | compiled codec: plain | term lists, named | first call (upload) |
|---------------|---------------|-----------------------|-------------------|---------------------|
| 1,000 (2,000)  | 7.5 + 13.3 = 20.8   | 0.17 + 2.4 = 2.6  | 0.01 + 0.01 | 0.7 + 1.4 |
| 5,000 (10,000) | 41.2 + 66.4 = 107.5 | 0.89 + 15.8 = 16.7 | 0.04 + 0.04 | 2.7 + 5.4 |
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson

from minikube_lite.csi import http, spec

ZONES = ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"]


def request(nodes: int, start: int, requisite: list[spec.Topology]) -> spec.CreateVolumeRequest:
    return spec.CreateVolumeRequest(
        name=f"pvc-{start:08d}", capacity_range=spec.CapacityRange(required_bytes=20 << 30),
        volume_capabilities=[spec.VolumeCapability(spec.AccessMode.SINGLE_NODE_WRITER, spec.MountVolume("ext4"))],
        parameters={"type": "cloud_ssd"},
        accessibility_requirements=spec.TopologyRequirement(
            requisite=requisite, preferred=requisite[start:] + requisite[:start]))


def per_node_terms(nodes: int) -> list[spec.Topology]:
    return [spec.Topology({"alibabacloud.com/ecs-instance-id": f"i-{n:012x}",
                           "topology.diskplugin.csi.alibabacloud.com/zone": ZONES[n % 3],
                           "topology.diskplugin.csi.alibabacloud.com/region": "cn-hangzhou"})
            for n in range(nodes)]


def best_ms(fn: Callable[[int], object], calls: int) -> float:
    rounds = []
    for _ in range(3):
        t0 = time.process_time()
        for i in range(calls):
            fn(i)
        rounds.append((time.process_time() - t0) / calls * 1000)
    return min(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    requisite = per_node_terms(args.nodes)
    reqs = [request(args.nodes, (i * 7919) % args.nodes, requisite) for i in range(args.calls)]
    raw = orjson.dumps(http.encode(reqs[0]))
    print(f"{args.nodes} nodes: {2 * args.nodes} terms per CreateVolume, {len(raw) / 1e6:.2f} MB inline")

    plain_out = best_ms(lambda i: orjson.dumps(http.encode(reqs[i])), args.calls)
    plain_in = best_ms(lambda i: http.decode(spec.CreateVolumeRequest, orjson.loads(raw)), args.calls)
    assert http.decode(spec.CreateVolumeRequest, orjson.loads(raw)) == reqs[0]
    print(f"plain       client encode {plain_out:7.2f} ms   server decode {plain_in:7.2f} ms   "
          f"both {plain_out + plain_in:7.2f} ms")

    if not hasattr(http, "CODEC_KEY"):
        print("(no term lists in this tree)")
        return
    from minikube_lite.csi.codec import Codec
    from minikube_lite.csi.term_lists import TermListSender, TermListStore

    def pair() -> tuple[Codec, Codec]:
        sender, store = TermListSender(), TermListStore()
        return (Codec(encoders={spec.TopologyRequirement: sender.encode_requirement}),
                Codec(decoders={spec.TopologyRequirement: store.decode_requirement}))

    client, server = pair()
    first = client.dumps(reqs[0])
    t0 = time.process_time()
    client2, server2 = pair()
    upload = client2.dumps(reqs[0])
    up_out = time.process_time() - t0
    t0 = time.process_time()
    server2.loads(spec.CreateVolumeRequest, upload)
    up_in = time.process_time() - t0
    server.loads(spec.CreateVolumeRequest, first)
    bodies = [client.dumps(r) for r in reqs]
    assert all(server.loads(spec.CreateVolumeRequest, b) == r for b, r in zip(bodies, reqs, strict=True))
    lists_out = best_ms(lambda i: client.dumps(reqs[i]), args.calls)
    lists_in = best_ms(lambda i: server.loads(spec.CreateVolumeRequest, bodies[i]), args.calls)
    print(f"term lists  client encode {lists_out:7.2f} ms   server decode {lists_in:7.2f} ms   "
          f"both {lists_out + lists_in:7.2f} ms   ({len(bodies[1])} bytes)")
    print(f"first call  client encode {up_out * 1000:7.2f} ms   server decode {up_in * 1000:7.2f} ms   "
          f"(uploads {len(upload) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
