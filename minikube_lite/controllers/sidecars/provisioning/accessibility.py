"""GenerateAccessibilityRequirements (storage.md §3.4): the topology a CreateVolume asks for.

Why apart from the controller: this is the part of external-provisioner that reads nodes and
CSINodes rather than the claim, and it keeps state of its own. Without an allowed topology or a
strict selected node the requisite is the aggregate of every node's segments for the driver's
topology keys (``aggregateTopologies``); on a 5,000-node cluster that walk is costly, so its
result is cached per set of keys, with each term's CSI ``Topology``, until a node's labels or a
CSINode change (:meth:`AccessibilityRequirements.invalidate`).
"""

from __future__ import annotations

from ....client.base import JSON, Client
from ....client.informer import Informer
from ....client.runtime import get_or_none
from ....csi import spec
from .errors import ProvisioningError
from .messages import (
    MSG_CSINODE_NOT_FOUND,
    MSG_NO_ALLOWED_MATCH,
    MSG_NO_TOPOLOGY_KEY,
    MSG_TOPOLOGY_GENERATE,
    MSG_TOPOLOGY_MISSING_LABEL,
    MSG_TOPOLOGY_NOT_IN_REQUISITE,
)
from .requests import VolumeRequest
from .topology import (
    Term,
    aggregate_topologies,
    csinode_keys,
    dedupe_sorted,
    flatten_allowed,
    format_map,
    format_terms,
    is_subset,
    node_topology,
    pvc_name_hash_and_index,
    rotate,
    term_hash,
)

#: aggregateTopologies results by topology keys (None: keys from the first CSINode): the
#: deduplicated, sorted terms, each term's CSI Topology by ``id``, and each term's position by hash.
Aggregate = tuple[list[Term], dict[int, spec.Topology], dict[str, int]]


class AccessibilityRequirements:
    """The requisite and preferred topologies of one driver's CreateVolume calls."""

    def __init__(self, client: Client, driver_name: str, nodes: Informer, csinodes: Informer, *,
                 strict_topology: bool, immediate_topology: bool) -> None:
        self.client = client
        self.driver_name = driver_name
        self.nodes = nodes
        self.csinodes = csinodes
        #: external-provisioner ``--strict-topology``: only the selected node's own segment.
        self.strict_topology = strict_topology
        #: ``--immediate-topology``: Immediate claims get the aggregated topology too.
        self.immediate_topology = immediate_topology
        self.cache: dict[tuple[str, ...] | None, Aggregate] = {}

    def invalidate(self) -> None:
        """A node's labels or a CSINode changed: the aggregate is rebuilt on next use."""
        self.cache.clear()

    async def generate(self, claim: JSON, cls: JSON, node: JSON | None) -> tuple[list[Term], list[Term]]:
        """GenerateAccessibilityRequirements: (requisite, preferred) as lists of segment maps."""
        selected_topology: Term | None = None
        keys: list[str] | None = None
        allowed = cls.get("allowedTopologies") or []
        if node is not None:
            node_name = node["metadata"]["name"]
            csinode = self.csinodes.get(node_name)
            if csinode is None:
                csinode = await get_or_none(self.client, "csinodes", node_name)
                if csinode is None:
                    raise ProvisioningError(MSG_CSINODE_NOT_FOUND.format(node=node_name), reschedule=True) \
                        from None
            keys = csinode_keys(csinode, self.driver_name)
            if not keys:
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_NO_TOPOLOGY_KEY.format(node=node_name)))
            selected_topology = node_topology(node, keys)
            if selected_topology is None:
                labels = (node.get("metadata") or {}).get("labels") or {}
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_TOPOLOGY_MISSING_LABEL.format(
                    labels=format_map(labels), keys="[" + " ".join(keys) + "]")))
        aggregated = False
        if self.strict_topology and selected_topology is not None:
            requisite = [selected_topology]
            if allowed and not any(is_subset(t, selected_topology) for t in flatten_allowed(allowed)):
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_NO_ALLOWED_MATCH.format(
                    node=node["metadata"]["name"] if node else "", topology=format_map(selected_topology),
                    allowed=format_terms(flatten_allowed(allowed)))))
        elif allowed:
            requisite = flatten_allowed(allowed)
        elif node is None and not self.immediate_topology:
            return [], []
        else:
            aggregated = True
            terms, _, positions = self.aggregated(keys)
            requisite = list(terms)
        if not aggregated:
            requisite = dedupe_sorted(requisite)
        if not requisite:
            return [], []
        if selected_topology is not None:
            if aggregated and keys is not None:
                # Every aggregated term has exactly the selected node's keys, so "a subset of the
                # node's topology" means "equal to it": a lookup, not a walk over 5,000 terms.
                start = positions.get(term_hash(selected_topology))
            else:
                start = next((i for i, t in enumerate(requisite) if is_subset(t, selected_topology)), None)
            if start is None:
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_TOPOLOGY_NOT_IN_REQUISITE.format(
                    topology=format_map(selected_topology), node=node["metadata"]["name"] if node else "",
                    requisite=format_terms(requisite))))
            return requisite, rotate(requisite, start)
        h, index = pvc_name_hash_and_index(claim["metadata"]["name"])
        return requisite, rotate(requisite, ((h + index) & 0xFFFFFFFF) % len(requisite))

    def aggregated(self, keys: list[str] | None) -> Aggregate:
        """``aggregate(keys)`` deduplicated and sorted, cached until a node or CSINode changes.

        Returned terms are shared: callers copy the list and never change a term.
        """
        cache_key = tuple(keys) if keys is not None else None
        hit = self.cache.get(cache_key)
        if hit is None:
            terms = dedupe_sorted(self.aggregate(keys))
            hit = (terms, {id(t): spec.Topology(segments=dict(t)) for t in terms},
                   {term_hash(t): i for i, t in enumerate(terms)})
            self.cache[cache_key] = hit
        return hit

    def csi_topology(self, req: VolumeRequest) -> spec.TopologyRequirement | None:
        """The request's terms as cached CSI values, when every term comes from one cached list.

        Cached terms stay alive while cached, so no other object can share one of their ids.
        """
        if not req.requisite:
            return None
        for _, memo, _ in self.cache.values():
            if id(req.requisite[0]) not in memo:
                continue
            try:
                return spec.TopologyRequirement(requisite=[memo[id(t)] for t in req.requisite],
                                                preferred=[memo[id(t)] for t in req.preferred])
            except KeyError:
                return None
        return None

    def aggregate(self, keys: list[str] | None) -> list[Term]:
        """aggregateTopologies over the cached nodes and CSINodes (see :func:`topology.aggregate_topologies`)."""
        return aggregate_topologies(self.nodes.list(), self.csinodes.list(), self.driver_name, keys)
