"""Label and node selectors as core/v1 validation checks them (``ValidateNodeSelector``,
``ValidateLabelSelector``): shared by pods, volumes, workloads, jobs and policies."""

from __future__ import annotations

from typing import Any

from minikube_lite.apiserver.errors import forbidden_field, invalid_value, required

from .common import (
    Errors,
    as_list,
    as_str,
    child,
    get,
    idx,
    validate_labels,
)
from .names import (
    is_qualified_name,
)

JSON = dict[str, Any]

NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


def validate_node_selector(selector: Any, path: str) -> Errors:
    """``ValidateNodeSelector``: at least one term; each requirement well formed."""
    errs: Errors = []
    terms = as_list(get(selector, "nodeSelectorTerms"))
    if not terms:
        return [required(child(path, "nodeSelectorTerms"), "must have at least one node selector term")]
    for t, term in enumerate(terms):
        tpath = idx(child(path, "nodeSelectorTerms"), t)
        for r, req in enumerate(as_list(get(term, "matchExpressions"))):
            errs.extend(_validate_node_selector_requirement(req, idx(child(tpath, "matchExpressions"), r)))
        for r, req in enumerate(as_list(get(term, "matchFields"))):
            rpath = idx(child(tpath, "matchFields"), r)
            if as_str(get(req, "key")) != "metadata.name":
                errs.append(invalid_value(child(rpath, "key"), as_str(get(req, "key")), "not a valid field selector key"))
            errs.extend(_validate_node_selector_requirement(req, rpath, check_key=False))
    return errs


def _validate_node_selector_requirement(req: Any, path: str, check_key: bool = True) -> Errors:
    errs: Errors = []
    op = as_str(get(req, "operator"))
    values = as_list(get(req, "values"))
    if op in ("In", "NotIn"):
        if not values:
            errs.append(required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden_field(child(path, "values"),
                                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(required(child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(invalid_value(child(path, "operator"), op, "not a valid selector operator"))
    if check_key:
        k = as_str(get(req, "key"))
        errs.extend(invalid_value(child(path, "key"), k, m) for m in is_qualified_name(k))
    return errs


def validate_label_selector(selector: JSON, path: str) -> Errors:
    """``metav1validation.ValidateLabelSelector``."""
    errs: Errors = []
    for n, req in enumerate(as_list(selector.get("matchExpressions"))):
        rpath = idx(child(path, "matchExpressions"), n)
        op = as_str(get(req, "operator"))
        values = as_list(get(req, "values"))
        if op in ("In", "NotIn"):
            if not values:
                errs.append(required(child(rpath, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden_field(child(rpath, "values"),
                                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid_value(child(rpath, "operator"), op, "not a valid selector operator"))
        k = as_str(get(req, "key"))
        errs.extend(invalid_value(child(rpath, "key"), k, m) for m in is_qualified_name(k))
    errs.extend(validate_labels(selector.get("matchLabels"), child(path, "matchLabels")))
    return errs
