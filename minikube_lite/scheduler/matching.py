"""Selector, affinity and toleration semantics shared by several plugins.

These are the apimachinery/component-helpers rules (label selectors, node selector terms,
topology selector terms, taints and tolerations) on plain dicts. Several plugins and the
VolumeBinding binder must agree on them to the letter, so they live in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..api.selectors import (  # noqa: F401  (re-exported: the plugins import them from here)
    match_label_selector,
    match_node_selector_term,
    match_node_selector_terms,
    match_requirement,
    pv_node_affinity_matches,
)

JSON = dict[str, Any]



def match_topology_selector_terms(terms: Sequence[Mapping[str, Any]] | None, labels: Mapping[str, str]) -> bool:
    """``v1helper.MatchTopologySelectorTerms``: ORed terms of ANDed ``In`` expressions; empty matches all."""
    if not terms:
        return True
    for term in terms:
        ok = True
        for expr in term.get("matchLabelExpressions") or []:
            key = expr.get("key", "")
            if key not in labels or labels[key] not in (expr.get("values") or []):
                ok = False
                break
        if ok:
            return True
    return False


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``: empty effect/key are wildcards; empty operator means Equal."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerates_taint(tolerations: Sequence[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def node_labels(node: JSON) -> dict[str, str]:
    labels: dict[str, str] = (node.get("metadata") or {}).get("labels") or {}
    return labels
