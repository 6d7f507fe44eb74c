"""How a strategic merge patch fails: upstream's ``mergepatch``/``strategicpatch`` error texts, the
status each maps to (400, 422 or a reason-less 500), and Go's ``%v`` rendering of the JSON values
they quote (``map: map[image:httpd] does not contain declared merge key: name``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from minikube_lite.apiserver.errors import ApiError

# mergepatch/errors.go
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list"
ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS = "patch content doesn't match retainKeys list"
ERR_UNSUPPORTED_SMP_FORMAT = "strategic merge patch format is not supported"
ERR_MERGING_LISTS_DIRECTIVE = "merging lists cannot yet be specified in the patch"

# Messages interpretStrategicMergePatchError maps to 400 BadRequest or 422 (the rest are 500).
_BAD_REQUEST = frozenset({ERR_BAD_JSON_DOC, ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST,
                          ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS, ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST,
                          ERR_UNSUPPORTED_SMP_FORMAT})
_UNPROCESSABLE = frozenset({ERR_NO_LIST_OF_LISTS, ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS})
UNPROCESSABLE_MESSAGE = "the server rejected our request due to an error in our request"


class StrategicMergeError(Exception):
    """A patch the apiserver would refuse; ``code``/``reason`` are what upstream answers."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        if message in _BAD_REQUEST:
            self.code, self.reason = 400, "BadRequest"
        elif message in _UNPROCESSABLE:
            self.code, self.reason = 422, "Invalid"
        else:
            # Not a metav1.Status error: ErrorToAPIStatus makes it a 500 with no reason,
            # which kubectl prints as "Error from server: <message>".
            self.code, self.reason = 500, ""

    def to_api_error(self) -> ApiError:
        """The ``Status`` a real server sends for this failure."""
        if self.code == 422:
            return ApiError(422, "Invalid", UNPROCESSABLE_MESSAGE,
                            {"causes": [{"type": "UnexpectedServerResponse", "message": self.message}]})
        return ApiError(self.code, self.reason, self.message)


# ---------------------------------------------------------------------------------------------
# Go-style rendering for error messages (fmt %v of map[string]interface{})


def go_value(v: Any) -> str:
    """``fmt.Sprintf("%v", v)`` for decoded JSON: maps sorted by key, lists space-separated."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_value(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if isinstance(v, float):
        return _go_float(v)
    return str(v)


def _go_float(f: float) -> str:
    """strconv's shortest ``%v``: exponent form below 1e-4 or from 1e21 on, as Go prints floats."""
    if f != f or f in (float("inf"), float("-inf")):
        return {True: "+Inf", False: "-Inf"}[f > 0] if f == f else "NaN"
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))  # k8s' JSON decoding turns integral numbers into int64
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    x = len(text) + exp - 1
    prefix = "-" if sign else ""
    if x < -4 or x >= 21:
        mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    return prefix + format(Decimal(text).scaleb(exp), "f")


def _go_type(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int):
        return "int64"
    return "float64"


def err_no_merge_key(m: Any, key: str) -> StrategicMergeError:
    return StrategicMergeError(f"map: {go_value(m)} does not contain declared merge key: {key}")


def err_bad_arg_type(expected: str, actual: Any) -> StrategicMergeError:
    return StrategicMergeError(f"expected a {expected}, but received a {_go_type(actual)}")


def err_bad_patch_type(t: Any, m: Any) -> StrategicMergeError:
    text = t if isinstance(t, str) else f"%!s({_go_type(t)}={go_value(t)})"
    return StrategicMergeError(f"unknown patch type: {text} in map: {go_value(m)}")
