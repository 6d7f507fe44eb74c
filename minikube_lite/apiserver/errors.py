"""``metav1.Status`` errors with the codes, reasons and messages of a real kube-apiserver.

Constructors mirror ``apimachinery/pkg/api/errors/errors.go`` so messages match upstream to
the letter; clients (kubectl's ``Error from server (NotFound): ...``) print them verbatim.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

OPTIMISTIC_LOCK_MSG = "the object has been modified; please apply your changes to the latest version and try again"


class ApiError(Exception):
    """An API failure carried as the ``Status`` body a real server would send."""

    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    @classmethod
    def from_status(cls, status: JSON) -> ApiError:
        return cls(
            int(status.get("code") or 500),
            str(status.get("reason") or ""),
            str(status.get("message") or ""),
            status.get("details"),
        )

    def status(self) -> JSON:
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _details(name: str, group: str, resource: str, extra: JSON | None = None) -> JSON:
    d: JSON = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = resource
    if extra:
        d.update(extra)
    return d


def _qualified(group: str, resource: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(group, resource)} "{name}" not found',
                    _details(name, group, resource))


def already_exists(group: str, resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(group, resource)} "{name}" already exists',
                    _details(name, group, resource))


def conflict(group: str, resource: str, name: str, why: str = OPTIMISTIC_LOCK_MSG) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(group, resource)} "{name}": {why}',
                    _details(name, group, resource))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(verb: str, kind: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", f'{verb} is not supported on resources of kind "{kind}"',
                    {})


def method_not_served() -> ApiError:
    """A verb the resource has no handler for (the mux's answer upstream)."""
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: "
                    f"{', '.join(accepted)}", {})


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def gone_too_old(requested: int, oldest: int) -> ApiError:
    return expired(f"too old resource version: {requested} ({oldest})")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(group: str, resource: str, name: str, why: str) -> ApiError:
    q = _qualified(group, resource)
    prefix = f'{q} "{name}" is forbidden' if name else f"{q} is forbidden"
    return ApiError(403, "Forbidden", f"{prefix}: {why}", _details(name, group, resource))


def too_many_requests(message: str) -> ApiError:
    return ApiError(429, "TooManyRequests", message, {})


def internal_error(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


class FieldError:
    """One cause of an Invalid error, as ``field.Error`` renders it."""

    # reason -> the text field.Error prints after the field path
    _TEXT = {
        "FieldValueRequired": "Required value",
        "FieldValueNotFound": "Not found",
        "FieldValueInvalid": "Invalid value",
        "FieldValueNotSupported": "Unsupported value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueTooLong": "Too long",
        "FieldValueTooMany": "Too many",
        "FieldValueTypeInvalid": "Invalid value",
        "InternalError": "Internal error",
    }

    def __init__(self, reason: str, field: str, detail: str = "", value: Any = None, has_value: bool = False,
                 supported: list[str] | None = None) -> None:
        self.reason = reason
        self.field = field
        self.detail = detail
        self.value = value
        self.has_value = has_value
        self.supported = supported

    def body(self) -> str:
        """The part after ``<field>: `` (``Invalid value: "x": must be ...``)."""
        text = self._TEXT.get(self.reason, self.reason)
        if self.has_value and self.reason in ("FieldValueInvalid", "FieldValueNotSupported", "FieldValueNotFound",
                                              "FieldValueDuplicate", "FieldValueTypeInvalid"):
            text += ": " + _go_value(self.value)
        if self.supported:
            text += ": supported values: " + ", ".join(f'"{s}"' for s in self.supported)
        if self.detail:
            text += ": " + self.detail
        return text

    def cause(self) -> JSON:
        return {"reason": self.reason, "message": self.body(), "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return str(value)


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, detail)


def invalid_value(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", field, detail, value, True)


def not_supported(field: str, value: Any, supported: list[str]) -> FieldError:
    return FieldError("FieldValueNotSupported", field, "", value, True, supported)


def forbidden_field(field: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", field, detail)


def invalid(qualified_kind: str, group: str, kind: str, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid: ``Pod "x" is invalid: spec.containers[0].image: Required value``."""
    if len(errors) == 1:
        summary = str(errors[0])
    else:
        summary = "[" + ", ".join(str(e) for e in errors) + "]"
    details: JSON = {"name": name, "group": group, "kind": kind, "causes": [e.cause() for e in errors]}
    if not group:
        details.pop("group")
    if not name:
        details.pop("name")
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {summary}', details)
