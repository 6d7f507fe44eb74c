#!/usr/bin/env python3
"""Derive ``minikube_lite/data/protobuf_table.json`` from the shared protobuf facts table.

kubectl >= 1.32 writes typed objects as ``application/vnd.kubernetes.protobuf``; the server
decodes them with ``minikube_lite.apiserver.wire.protobuf``, which needs field numbers, names, types and
the Go struct-tag flags of every message. Those facts come from
``k8s-protobuf-schema.json`` (see that file's README), which lives outside the repository.
The project must run without it, so this script copies the part the decoder needs into the
package, checks that every message reference resolves, and writes it compactly with sorted
keys so re-running it gives a byte-identical file (a clean ``git diff``).

By default every message is kept: the whole table is well under 1 MB, and keeping it all means
any registered kind a client may send decodes. ``--groups`` restricts the output to the
messages reachable from the kinds of the listed API groups (plus meta/v1 and runtime).

Usage::

    python scripts/derive_protobuf_table.py [SOURCE] [--out PATH] [--groups core,apps,...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "k8s-protobuf-schema.json"
DEFAULT_OUT = REPO / "minikube_lite" / "data" / "protobuf_table.json"

# Sections copied verbatim (filtered by message when --groups is given).
KEEP = ("apiVersions", "kinds", "maps", "messages", "otherKinds", "protoNames", "source", "wrappers", "format")

# Packages always kept under --groups: envelope, meta/v1 options and Status, special types.
ALWAYS_PREFIXES = (
    "k8s.io.apimachinery.pkg.apis.meta.v1.",
    "k8s.io.apimachinery.pkg.runtime.",
    "k8s.io.apimachinery.pkg.api.resource.",
    "k8s.io.apimachinery.pkg.util.intstr.",
)


class TableError(Exception):
    """The source table is not the shape the decoder relies on."""


def _refs(row: list[Any]) -> str | None:
    """The message a row points at (field type or map value type), if any."""
    if row[2] == "message" or row[2] == "map":
        ref = row[3]
        return ref if isinstance(ref, str) else None
    return None


def reachable(messages: dict[str, list[list[Any]]], roots: set[str]) -> set[str]:
    """Every message reachable from ``roots`` through fields and map values."""
    seen: set[str] = set()
    todo = [r for r in roots if r in messages]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for row in messages[name]:
            ref = _refs(row)
            if ref and ref not in seen:
                todo.append(ref)
    return seen


def validate(table: dict[str, Any]) -> None:
    """Fail loudly if a row is malformed or a reference dangles, rather than at decode time."""
    messages = table["messages"]
    for name, rows in messages.items():
        numbers = set()
        for row in rows:
            if len(row) not in (6, 8):
                raise TableError(f"{name}: bad row {row!r}")
            number, json_name, typ, _ref, label, flags = row[:6]
            if not isinstance(number, int) or number <= 0 or number in numbers:
                raise TableError(f"{name}: bad or duplicate field number in {row!r}")
            numbers.add(number)
            if not isinstance(json_name, str) or not isinstance(flags, str):
                raise TableError(f"{name}: bad row {row!r}")
            if label not in ("optional", "repeated", "map"):
                raise TableError(f"{name}: bad label in {row!r}")
            ref = _refs(row)
            if typ == "message" and (ref is None or ref not in messages):
                raise TableError(f"{name}.{json_name}: unknown message {ref!r}")
            if typ == "map" and ref is not None and ref not in messages:
                raise TableError(f"{name}.{json_name}: unknown map value message {ref!r}")
    for section in ("kinds", "otherKinds"):
        for key, msg in table[section].items():
            if msg not in messages:
                raise TableError(f"{section}[{key}] -> unknown message {msg}")
    for msg in table["wrappers"]:
        if msg not in messages:
            raise TableError(f"unknown wrapper {msg}")


def derive(source: dict[str, Any], groups: set[str] | None) -> dict[str, Any]:
    missing = [k for k in KEEP if k not in source]
    if missing:
        raise TableError(f"source table lacks sections {missing}")
    out = {k: source[k] for k in KEEP}
    if groups is None:
        validate(out)
        return out

    def wanted(key: str) -> bool:
        return key.split("/", 1)[0] in groups

    kinds = {k: v for k, v in source["kinds"].items() if wanted(k)}
    other = {k: v for k, v in source["otherKinds"].items()
             if wanted(k) or v.startswith(ALWAYS_PREFIXES)}
    roots = set(kinds.values()) | set(other.values())
    roots |= {m for m in source["messages"] if m.startswith(ALWAYS_PREFIXES)}
    keep = reachable(source["messages"], roots)
    out["messages"] = {k: v for k, v in source["messages"].items() if k in keep}
    out["kinds"] = kinds
    out["otherKinds"] = other
    out["wrappers"] = [w for w in source["wrappers"] if w in keep]
    out["maps"] = {k: v for k, v in source["maps"].items() if k.rsplit(".", 1)[0] in keep}
    out["protoNames"] = {k: v for k, v in source["protoNames"].items() if k.rsplit(".", 1)[0] in keep}
    validate(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE), help="k8s-protobuf-schema.json")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--groups", default=None,
                        help="comma-separated API groups to keep (core for the legacy group); default all")
    args = parser.parse_args(argv)
    src = Path(args.source)
    try:
        source = json.loads(src.read_text())
    except (OSError, ValueError) as e:
        print(f"cannot read {src}: {e}", file=sys.stderr)
        return 1
    groups = {g.strip() for g in args.groups.split(",") if g.strip()} if args.groups else None
    try:
        table = derive(source, groups)
    except TableError as e:
        print(f"bad table {src}: {e}", file=sys.stderr)
        return 1
    text = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    Path(args.out).write_text(text)
    print(f"wrote {args.out}: {len(table['messages'])} messages, {len(table['kinds'])} kinds, "
          f"{len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
