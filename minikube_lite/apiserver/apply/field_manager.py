"""Who a write is recorded for: the ``fieldManager`` option, or the User-Agent's prefix
(``kubectl``, ``OpenAPI-Generator``) as upstream's ``managedfields`` handler derives it, and
the 422 a bad ``fieldManager``/``force`` option gets (``ValidateFieldManager``).
"""

from __future__ import annotations

from minikube_lite.apiserver import errors

UNKNOWN_MANAGER = "unknown"
FIELD_MANAGER_MAX_LENGTH = 128
REQUIRED_FOR_APPLY = "is required for apply patch"
FORCE_FORBIDDEN = "may not be specified for non-apply patch"


def prefix_from_user_agent(user_agent: str | None) -> str:
    """The User-Agent up to its first ``/``, printable runes only, at most 128 bytes."""
    head = (user_agent or "").split("/", 1)[0]
    out = []
    size = 0
    for ch in head:
        if not ch.isprintable():
            continue
        n = len(ch.encode())
        if size + n > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += n
    return "".join(out)


def manager_name(field_manager: str | None, user_agent: str | None) -> str:
    """fieldManager if set, else the User-Agent prefix, else ``unknown``."""
    if field_manager:
        return field_manager
    return prefix_from_user_agent(user_agent) or UNKNOWN_MANAGER


def _options_invalid(kind: str, causes: list[errors.FieldError]) -> errors.ApiError:
    err = errors.invalid(f"{kind}.meta.k8s.io", "meta.k8s.io", kind, "", causes)
    if err.details is not None:
        err.details.pop("name", None)
    return err


def field_manager_errors(field_manager: str | None) -> list[errors.FieldError]:
    """``ValidateFieldManager``: at most 128 bytes, printable characters only."""
    fm = field_manager or ""
    errs: list[errors.FieldError] = []
    if len(fm.encode()) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(errors.FieldError("FieldValueTooLong", "fieldManager",
                                      f"may not be more than {FIELD_MANAGER_MAX_LENGTH} bytes"))
    pos = 0
    for ch in fm:
        if not ch.isprintable():
            errs.append(errors.invalid_value("fieldManager", fm,
                                             f"invalid character U+{ord(ch):04X} (at position {pos})"))
        pos += len(ch.encode())
    return errs


def validate_write_options(field_manager: str | None, *, kind: str = "PatchOptions", is_apply: bool = False,
                           force: bool | None = None) -> None:
    """422 for bad fieldManager / force options of create (``CreateOptions``), update, patch."""
    errs = field_manager_errors(field_manager)
    if is_apply and not field_manager:
        errs.insert(0, errors.required("fieldManager", REQUIRED_FOR_APPLY))
    if not is_apply and force:
        errs.append(errors.forbidden_field("force", FORCE_FORBIDDEN))
    if errs:
        raise _options_invalid(kind, errs)
