"""The view of an OpenAPI schema that patching and apply need.

Strategic merge patch and server-side apply walk an object alongside its schema to learn,
for each list, whether it merges by key (``x-kubernetes-patch-merge-key`` /
``x-kubernetes-list-type: map``) or is replaced or treated as a set. The schema set
(``apiserver/schema/upstream.py``) hands out nodes of this shape for built-in types and for CRDs.
"""

from __future__ import annotations

from typing import Protocol


class SchemaNode(Protocol):
    """One position in a type's schema, with ``$ref`` already resolved."""

    @property
    def type(self) -> str | None:
        """``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean`` or None (any)."""

    @property
    def patch_merge_key(self) -> str | None:
        """``x-kubernetes-patch-merge-key`` for lists that strategic-merge by key."""

    @property
    def patch_strategy(self) -> str | None:
        """``x-kubernetes-patch-strategy``: ``merge``, ``retainKeys``, ``merge,retainKeys``, ``replace``."""

    @property
    def list_type(self) -> str | None:
        """``x-kubernetes-list-type``: ``atomic``, ``set`` or ``map``."""

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        """``x-kubernetes-list-map-keys`` for ``list_type == "map"``."""

    @property
    def map_type(self) -> str | None:
        """``x-kubernetes-map-type``: ``atomic`` or ``granular``."""

    def property(self, name: str) -> SchemaNode | None:
        """The schema of field ``name`` of an object (or of any key of a map), None if unknown."""

    def items(self) -> SchemaNode | None:
        """The schema of the elements of an array."""
