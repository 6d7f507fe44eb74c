"""What every component reads off a Node: its conditions, and whether its kubelet is stopped.

The kubelet (which stops starting pods on a stopped node) and the node lifecycle controller (which
marks such a node Unknown) must agree on what "stopped" means, so the rule lives once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: A node whose kubelet is "stopped": no heartbeats, no pod starts (set in the config or the API).
DOWN_ANNOTATION = "minikube-lite.io/down"


def is_down(node: Mapping[str, Any] | None) -> bool:
    """Whether the node's kubelet is stopped (annotation ``minikube-lite.io/down: "true"``)."""
    if node is None:
        return False
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(DOWN_ANNOTATION, "")).lower() == "true"


def node_condition(node: Mapping[str, Any] | None, type_: str) -> dict[str, Any] | None:
    """A copy of the node's condition of that type, or None."""
    for cond in ((node or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def node_ready_status(node: Mapping[str, Any] | None) -> str:
    """``True``/``False``/``Unknown`` of the Ready condition (``Unknown`` when absent)."""
    cond = node_condition(node, "Ready")
    return str(cond.get("status")) if cond else "Unknown"


def node_event_ref(node: Mapping[str, Any]) -> dict[str, Any]:
    """The object an event about a Node names: the node with its *name* as UID, as kubelet and the
    node controller do (``kubectl describe node`` therefore also queries ``involvedObject.uid=<name>``)."""
    meta = dict(node.get("metadata") or {})
    meta["uid"] = meta.get("name", "")
    meta.pop("namespace", None)
    return {**node, "kind": "Node", "apiVersion": "v1", "metadata": meta}
