"""``apply``: manifests (dicts, YAML text, files, folders) server-side applied, as ``kubectl apply --server-side``.

Both clients apply through this module, so the in-process and HTTP transports behave alike:
each document becomes one ``PATCH`` with ``application/apply-patch+yaml`` (create or update,
owned by the field manager ``minikube-lite-test`` unless told otherwise), in document order.
The resource is found from ``apiVersion``/``kind`` through the client's discovery, so custom
resources work too, including those of a CRD applied earlier in the same call: after a CRD
the next documents wait until it is Established and served.

A failing document raises :class:`ManifestError`: the API's own error (code, reason, Status)
with a message that names the document.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..apiserver.errors import ApiError
from ..apiserver.registry import ResourceType

JSON = dict[str, Any]
#: What ``apply`` takes: one object, a list of objects, YAML text (any number of documents),
#: or the path of a file or of a folder of ``*.yaml``/``*.yml``/``*.json`` files.
Manifests = Mapping[str, Any] | Iterable[Mapping[str, Any]] | str | os.PathLike[str]

DEFAULT_FIELD_MANAGER = "minikube-lite-test"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_RESOURCE = "customresourcedefinitions.v1.apiextensions.k8s.io"
# How long a document waits for the CRD of its kind (applied earlier in the same call) to be served.
CRD_ESTABLISH_TIMEOUT = 30.0

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestError(ApiError):
    """An ``apply`` document the API refused (or that cannot be sent): names the document.

    ``code``, ``reason`` and ``details`` are the API's; ``message`` is ``"<document>: <API message>"``;
    ``api_message`` is the API's message alone; ``document`` says which document failed.
    """

    def __init__(self, document: str, error: ApiError) -> None:
        super().__init__(error.code, error.reason, f"{document}: {error.message}", error.details)
        self.document = document
        self.api_message = error.message


@dataclass
class Document:
    """One manifest to apply and where it came from (for error messages)."""

    obj: JSON
    source: str

    @property
    def label(self) -> str:
        meta = self.obj.get("metadata") if isinstance(self.obj.get("metadata"), dict) else {}
        kind = self.obj.get("kind") or "<no kind>"
        name = (meta or {}).get("name") or "<no name>"
        return f'{self.source} ({kind} "{name}")'


def load_documents(source: Manifests) -> list[Document]:
    """Every object in ``source``, in order (``List`` kinds expanded into their items)."""
    docs: list[Document] = []
    if isinstance(source, Mapping):
        _add(docs, dict(source), "document 1")
    elif isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        for path in _manifest_files(Path(source)):
            _add_text(docs, path.read_text(encoding="utf-8"), str(path), json_file=path.suffix == ".json")
    elif isinstance(source, str):
        _add_text(docs, source, "", json_file=False)
    else:
        for i, item in enumerate(source, 1):
            if not isinstance(item, Mapping):
                raise TypeError(f"apply: item {i} is a {type(item).__name__}, not a mapping")
            _add(docs, dict(item), f"document {i}")
    return docs


def _looks_like_path(text: str) -> bool:
    """A one-line string naming an existing file or folder is a path; anything else is YAML."""
    return "\n" not in text and os.path.exists(text)


def _manifest_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
    if not path.exists():
        raise FileNotFoundError(f"apply: no such file or folder: {path}")
    return [path]


def _add_text(docs: list[Document], text: str, origin: str, *, json_file: bool) -> None:
    prefix = f"{origin} " if origin else ""
    try:
        parsed = [json.loads(text)] if json_file else list(yaml.load_all(text, Loader=_YAML_LOADER))
    except (yaml.YAMLError, ValueError) as err:
        raise ManifestError(f"{origin or 'manifest'}", ApiError(400, "BadRequest", f"cannot parse: {err}")) from None
    for i, item in enumerate(parsed, 1):
        if item is None:       # an empty document (``---`` at the end, comments only)
            continue
        label = f"{prefix}document {i}"
        if not isinstance(item, dict):
            raise ManifestError(label, ApiError(400, "BadRequest", f"not an object: {item!r:.80}"))
        _add(docs, item, label)


def _add(docs: list[Document], obj: JSON, label: str) -> None:
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        for j, item in enumerate(obj["items"], 1):
            if isinstance(item, dict):
                docs.append(Document(item, f"{label} item {j}"))
        return
    docs.append(Document(obj, label))


KindResolver = Callable[[str, str], Awaitable[ResourceType | None]]
PatchCall = Callable[..., Awaitable[JSON]]
GetCall = Callable[..., Awaitable[JSON]]


def resource_name(rt: ResourceType) -> str:
    """The fully qualified resource name every client resolves unambiguously."""
    return f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural


async def apply_documents(docs: list[Document], *, resolve_kind: KindResolver, patch: PatchCall, get: GetCall,
                          namespace: str | None, field_manager: str, force: bool, dry_run: bool) -> list[JSON]:
    """Server-side apply ``docs`` in order; the applied objects as the API returned them."""
    applied: list[JSON] = []
    for doc in docs:
        obj = doc.obj
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
            missing = "apiVersion" if not api_version else "Kind"
            raise ManifestError(doc.label, ApiError(400, "BadRequest", f"Object '{missing}' is missing in "
                                                    f"'{orjson.dumps(obj).decode()[:200]}'"))
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = (meta or {}).get("name")
        if not isinstance(name, str) or not name:
            raise ManifestError(doc.label, ApiError(400, "BadRequest", "resource name may not be empty"))
        rt = await resolve_kind(api_version, kind)
        if rt is None:
            raise ManifestError(doc.label, ApiError(
                404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"; '
                                 "ensure CRDs are installed first"))
        ns = None
        if rt.namespaced:
            ns = namespace or (meta or {}).get("namespace") or "default"
        try:
            result = await patch(resource_name(rt), name, obj, ns, patch_type="apply", field_manager=field_manager,
                                 force=force, dry_run=dry_run)
        except ApiError as err:
            raise ManifestError(doc.label, err) from err
        applied.append(result)
        if api_version == CRD_API_VERSION and kind == "CustomResourceDefinition" and not dry_run:
            await _wait_established(name, result, get, resolve_kind, doc.label)
    return applied


async def _wait_established(name: str, crd: JSON, get: GetCall, resolve_kind: KindResolver, label: str) -> None:
    """Wait (real time, bounded) until the CRD is Established and its kind is served."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
    versions = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True) and v.get("name")]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CRD_ESTABLISH_TIMEOUT
    while True:
        if _established(crd) and all([await resolve_kind(f"{group}/{v}", kind) is not None for v in versions]):
            return
        if loop.time() > deadline:
            raise ManifestError(label, ApiError(504, "Timeout", f"CustomResourceDefinition {name!r} was not "
                                                f"established within {CRD_ESTABLISH_TIMEOUT:.0f}s"))
        await asyncio.sleep(0.01)
        crd = await get(CRD_RESOURCE, name)


def _established(crd: JSON) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
