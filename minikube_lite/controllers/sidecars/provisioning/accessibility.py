"""GenerateAccessibilityRequirements (storage.md §3.4): the topology a CreateVolume asks for.

Why apart from the controller: this is the part of external-provisioner that reads nodes and
CSINodes rather than the claim, and it keeps state of its own. Without an allowed topology or a
strict selected node the requisite is the aggregate of every node's segments for the driver's
topology keys (``aggregateTopologies``); on a 5,000-node cluster that walk is costly, so its
result is cached per set of keys until a node's arrival, departure or labels or a CSINode change
(:meth:`AccessibilityRequirements.invalidate`, called by the informer handlers, bumps
:attr:`~AccessibilityRequirements.generation`).

A cached aggregate also holds its terms as one list of CSI ``Topology`` values. Every claim of
an unchanged cluster gets that same list object as its CSI requisite, and its preferred list is
a rotation of it (the selected node's term first), so a remote driver's client recognises the
list it already sent (see ``csi/term_lists.py``) instead of encoding thousands of terms anew
for each claim; in one process the driver reads the shared values directly.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Aggregate:
    """One aggregateTopologies result, shared by every claim until the cluster changes (read-only)."""

    #: Deduplicated and sorted, as external-provisioner sends the requisite.
    terms: list[Term]
    #: The same terms as CSI values: one list object, the requisite of every CreateVolume.
    csi_terms: list[spec.Topology]
    #: Each term's position by :func:`~.topology.term_hash`: where the preferred list starts.
    positions: dict[str, int]
    #: :attr:`AccessibilityRequirements.generation` when built.
    generation: int


@dataclass
class Requirements:
    """What :meth:`AccessibilityRequirements.requirements` computes for one claim."""

    requisite: list[Term]
    preferred: list[Term]
    #: The same terms as CSI values when they come from a cached aggregate (requisite shared,
    #: preferred a rotation of it); None otherwise (built from the terms at call time).
    topology: spec.TopologyRequirement | None = None


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
        #: Bumped whenever the node or CSINode set (or a node's labels) changes.
        self.generation = 0

    def invalidate(self) -> None:
        """A node's labels or a CSINode changed: the aggregate is rebuilt on next use."""
        self.generation += 1
        self.cache.clear()

    async def generate(self, claim: JSON, cls: JSON, node: JSON | None) -> tuple[list[Term], list[Term]]:
        """GenerateAccessibilityRequirements: (requisite, preferred) as lists of segment maps."""
        found = await self.requirements(claim, cls, node)
        return found.requisite, found.preferred

    async def requirements(self, claim: JSON, cls: JSON, node: JSON | None) -> Requirements:
        """:meth:`generate`, with the CSI topology shared from the cache when the terms come from it."""
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
        aggregate: Aggregate | None = None
        if self.strict_topology and selected_topology is not None:
            requisite = [selected_topology]
            if allowed and not any(is_subset(t, selected_topology) for t in flatten_allowed(allowed)):
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_NO_ALLOWED_MATCH.format(
                    node=node["metadata"]["name"] if node else "", topology=format_map(selected_topology),
                    allowed=format_terms(flatten_allowed(allowed)))))
        elif allowed:
            requisite = flatten_allowed(allowed)
        elif node is None and not self.immediate_topology:
            return Requirements([], [])
        else:
            aggregate = self.aggregated(keys)
            requisite = list(aggregate.terms)
        if aggregate is None:
            requisite = dedupe_sorted(requisite)
        if not requisite:
            return Requirements([], [])
        if selected_topology is not None:
            if aggregate is not None and keys is not None:
                # Every aggregated term has exactly the selected node's keys, so "a subset of the
                # node's topology" means "equal to it": a lookup, not a walk over 5,000 terms.
                start = aggregate.positions.get(term_hash(selected_topology))
            else:
                start = next((i for i, t in enumerate(requisite) if is_subset(t, selected_topology)), None)
            if start is None:
                raise ProvisioningError(MSG_TOPOLOGY_GENERATE.format(err=MSG_TOPOLOGY_NOT_IN_REQUISITE.format(
                    topology=format_map(selected_topology), node=node["metadata"]["name"] if node else "",
                    requisite=format_terms(requisite))))
        else:
            h, index = pvc_name_hash_and_index(claim["metadata"]["name"])
            start = ((h + index) & 0xFFFFFFFF) % len(requisite)
        found = Requirements(requisite, rotate(requisite, start))
        if aggregate is not None:
            # requisite = every aggregated term in order, preferred = the same rotated to ``start``.
            found.topology = spec.TopologyRequirement(requisite=aggregate.csi_terms,
                                                      preferred=rotate(aggregate.csi_terms, start))
        return found

    def aggregated(self, keys: list[str] | None) -> Aggregate:
        """``aggregate(keys)`` deduplicated and sorted, cached until a node or CSINode changes.

        The result is shared: callers copy a list before changing it and never change a term.
        """
        cache_key = tuple(keys) if keys is not None else None
        hit = self.cache.get(cache_key)
        if hit is None:
            terms = dedupe_sorted(self.aggregate(keys))
            hit = Aggregate(terms=terms, csi_terms=[spec.Topology(segments=dict(t)) for t in terms],
                            positions={term_hash(t): i for i, t in enumerate(terms)}, generation=self.generation)
            self.cache[cache_key] = hit
        return hit

    def aggregate(self, keys: list[str] | None) -> list[Term]:
        """aggregateTopologies over the cached nodes and CSINodes (see :func:`topology.aggregate_topologies`)."""
        return aggregate_topologies(self.nodes.list(), self.csinodes.list(), self.driver_name, keys)
