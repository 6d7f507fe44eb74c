"""Selector, affinity and toleration semantics on plain dicts.

These are the apimachinery/component-helpers rules (metav1.LabelSelector, node selector terms,
topology selector terms, PV node affinity, taints and tolerations). The scheduler plugins, the
PV binder, the workload controllers and the RBAC aggregator must agree on them to the letter,
so they live once, here. (Selectors in a list request's query string are the API server's own
parsing, in ``apiserver/selectors.py``.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

JSON = dict[str, Any]


def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def match_requirement(req: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement / LabelSelectorRequirement (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""
    key = req.get("key", "")
    op = req.get("operator", "")
    values = req.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int(labels[key]), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None,
                         *, nil_matches: bool = False) -> bool:
    """metav1.LabelSelector: matchLabels ANDed with matchExpressions; ``{}`` matches everything."""
    if selector is None:
        return nil_matches
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(match_requirement(r, labels) for r in selector.get("matchExpressions") or [])


def match_node_selector_term(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """A NodeSelectorTerm: its expressions and fields ANDed; an empty term matches nothing."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = (node.get("metadata") or {}).get("labels") or {}
    if not all(match_requirement(r, labels) for r in exprs):
        return False
    if fields:
        name_fields = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
        for r in fields:
            if r.get("key") != "metadata.name" or r.get("operator") not in ("In", "NotIn"):
                return False
            if not match_requirement(r, name_fields):
                return False
    return True


def match_node_selector_terms(terms: Sequence[Mapping[str, Any]] | None, node: Mapping[str, Any]) -> bool:
    """A NodeSelector's terms are ORed; no terms match nothing."""
    return any(match_node_selector_term(t, node) for t in terms or [])


def pv_node_affinity_matches(pv: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``volume.CheckNodeAffinity``: a PV without ``nodeAffinity.required`` fits every node."""
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    if required is None:
        return True
    return match_node_selector_terms(required.get("nodeSelectorTerms"), node)



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
