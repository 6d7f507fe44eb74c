"""Decode ``application/vnd.kubernetes.protobuf`` request bodies into the JSON a real server stores.

kubectl >= 1.32 sends typed writes (``create namespace|configmap|secret|deployment...``,
``create token``, ``auth can-i``, ``certificate approve``) as protobuf with no JSON fallback,
so the server must read them. Instead of generated code this is a small proto2 wire reader
driven by a table of facts (field numbers, JSON names, types and Go struct-tag flags) that
``scripts/derive_protobuf_table.py`` copies into ``minikube_lite/data/protobuf_table.json``.

The conversions reproduce what the Go apiserver would produce after unmarshalling into the Go
struct and marshalling to JSON (see ``shared/data/README.md``): ``metav1.Time`` and
``MicroTime`` become RFC 3339 strings, ``Quantity`` a string, ``IntOrString`` an int or a
string, ``RawExtension``/``FieldsV1`` parsed JSON (or a nested envelope), ``bytes`` base64,
wrapper messages lists, ``json:",inline"`` members are merged into their parent, and zero
scalars are kept or dropped according to pointer/omitempty flags. The caller maps
:class:`ProtobufDecodeError` to a 400 BadRequest.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from minikube_lite.apiserver.errors import ApiError, bad_request

JSON = dict[str, Any]

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

# Messages that are not plain objects on the JSON side.
TIME = "k8s.io.apimachinery.pkg.apis.meta.v1.Time"
MICRO_TIME = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"
DURATION = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
QUANTITY_VALUE = "k8s.io.apimachinery.pkg.api.resource.QuantityValue"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"
FIELDS_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"
UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
META_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1."

# Kinds every group version registers (metav1.AddToGroupVersion): looked up in meta/v1.
META_KINDS = frozenset({"DeleteOptions", "ListOptions", "GetOptions", "CreateOptions", "UpdateOptions",
                        "PatchOptions", "Status", "WatchEvent", "APIVersions", "APIGroup",
                        "APIGroupList", "APIResourceList", "Table", "PartialObjectMetadata",
                        "PartialObjectMetadataList"})

# Error texts of the Go protobuf serializer and gogo-generated Unmarshal code.
ERR_EMPTY_DATA = "empty data"
ERR_EMPTY_BODY = "empty body"
ERR_NO_PREFIX = "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
ERR_UNEXPECTED_EOF = "unexpected EOF"
ERR_INT_OVERFLOW = "proto: integer overflow"
ERR_NEGATIVE_LENGTH = "proto: negative length found during unmarshaling"
ERR_TOO_DEEP = "proto: exceeded maximum nesting depth"
MAX_DEPTH = 100

_VARINT, _FIXED64, _LEN, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_VARINT_TYPES = frozenset({"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "enum"})
_FIXED64_TYPES = frozenset({"fixed64", "sfixed64", "double"})
_FIXED32_TYPES = frozenset({"fixed32", "sfixed32", "float"})
_MAX_LEN = 1 << 62


class ProtobufDecodeError(ValueError):
    """A body that is not a valid protobuf object; ``kind``/``api_version`` are set once known."""

    def __init__(self, message: str, api_version: str | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.api_version = api_version
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Field:
    """One row of the table: a field of a message."""

    number: int
    name: str
    type: str  # scalar type, "message" or "map"
    ref: str | None  # message type (or map value message type)
    repeated: bool
    flags: str
    key_type: str | None = None  # maps only
    value_type: str | None = None  # maps only

    @property
    def inline(self) -> bool:
        return "i" in self.flags


class Table:
    """The protobuf facts table, indexed for decoding."""

    def __init__(self, raw: JSON) -> None:
        self.messages: dict[str, dict[int, Field]] = {}
        self.order: dict[str, tuple[Field, ...]] = {}
        for name, rows in raw["messages"].items():
            fields = []
            for row in rows:
                if row[2] == "map":
                    f = Field(row[0], row[1], "map", row[3], False, row[5], row[6], row[7])
                else:
                    f = Field(row[0], row[1], row[2], row[3], row[4] == "repeated", row[5])
                fields.append(f)
            self.messages[name] = {f.number: f for f in fields}
            self.order[name] = tuple(sorted(fields, key=lambda f: f.number))
        self.kinds: dict[str, str] = dict(raw["kinds"])
        self.other_kinds: dict[str, str] = dict(raw["otherKinds"])
        self.wrappers: frozenset[str] = frozenset(raw["wrappers"])
        self.api_versions: dict[str, str] = dict(raw["apiVersions"])

    def message_for(self, api_version: str, kind: str) -> str | None:
        """The message of a registered ``apiVersion``/``kind``, None if unknown."""
        group, _, version = api_version.rpartition("/")
        key = f"{group or 'core'}/{version}/{kind}"
        msg = self.kinds.get(key) or self.other_kinds.get(key)
        if msg is None and kind in META_KINDS and META_V1 + kind in self.messages:
            msg = META_V1 + kind
        return msg


@lru_cache(maxsize=1)
def load_table() -> Table:
    """The committed table (package data), parsed once per process."""
    text = resources.files("minikube_lite.data").joinpath("protobuf_table.json").read_text()
    return Table(json.loads(text))


# ---------------------------------------------------------------------------------------------
# wire reader


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if shift >= 70:
            raise ProtobufDecodeError(ERR_INT_OVERFLOW)
        if pos >= end:
            raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def _length(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    n, pos = _varint(buf, pos, end)
    if n >= _MAX_LEN:
        raise ProtobufDecodeError(ERR_NEGATIVE_LENGTH)
    if pos + n > end:
        raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
    return n, pos


def _skip(buf: bytes, pos: int, end: int, wire: int, msg: str, number: int) -> int:
    """Skip an unknown field (as gogo's skipGenerated does, groups included)."""
    if wire == _VARINT:
        return _varint(buf, pos, end)[1]
    if wire == _FIXED64:
        if pos + 8 > end:
            raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
        return pos + 8
    if wire == _FIXED32:
        if pos + 4 > end:
            raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
        return pos + 4
    if wire == _LEN:
        n, pos = _length(buf, pos, end)
        return pos + n
    if wire == _START_GROUP:
        depth = 1
        while depth:
            tag, pos = _varint(buf, pos, end)
            w = tag & 7
            if w == _START_GROUP:
                depth += 1
            elif w == _END_GROUP:
                depth -= 1
            else:
                pos = _skip(buf, pos, end, w, msg, tag >> 3)
        return pos
    if wire == _END_GROUP:
        raise ProtobufDecodeError(f"proto: {_short(msg)}: wiretype end group for non-group")
    raise ProtobufDecodeError(f"proto: illegal wireType {wire}")


def _short(msg: str) -> str:
    return msg.rsplit(".", 1)[-1]


def _go_field(name: str) -> str:
    return name[:1].upper() + name[1:]


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _scalar_from_varint(typ: str, v: int) -> int | bool:
    if typ == "bool":
        return v != 0
    if typ in ("int32", "enum"):
        return _signed(v, 32)
    if typ == "int64":
        return _signed(v, 64)
    if typ == "uint32":
        return v & 0xFFFFFFFF
    if typ in ("sint32", "sint64"):
        return (v >> 1) ^ -(v & 1)
    return v


def _scalar_fixed(typ: str, data: bytes) -> int | float:
    fmt = {"fixed32": "<I", "sfixed32": "<i", "float": "<f",
           "fixed64": "<Q", "sfixed64": "<q", "double": "<d"}[typ]
    return struct.unpack(fmt, data)[0]  # type: ignore[no-any-return]


def _bytes_value(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _string(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# message decoding


class _Decoder:
    def __init__(self, table: Table) -> None:
        self.table = table

    def fields(self, buf: bytes, msg: str, depth: int,
               known: dict[int, Field] | None = None) -> dict[int, Any]:
        """Read the wire fields of ``msg``: number -> raw value(s), unknown fields skipped.

        Singular message fields keep their encoded bytes concatenated, which is protobuf's own
        rule for a message field that appears twice (the occurrences merge).
        """
        if depth > MAX_DEPTH:
            raise ProtobufDecodeError(ERR_TOO_DEEP)
        if known is None:
            known = self.table.messages[msg]
        out: dict[int, Any] = {}
        pos, end = 0, len(buf)
        while pos < end:
            tag, pos = _varint(buf, pos, end)
            number, wire = tag >> 3, tag & 7
            if wire == _END_GROUP:
                raise ProtobufDecodeError(f"proto: {_short(msg)}: wiretype end group for non-group")
            if number <= 0:
                raise ProtobufDecodeError(f"proto: {_short(msg)}: illegal tag {number} (wire type {wire})")
            f = known.get(number)
            if f is None:
                pos = _skip(buf, pos, end, wire, msg, number)
                continue
            if f.type in ("message", "map", "string", "bytes"):
                if wire != _LEN:
                    raise self._wrong_wire(wire, f, msg)
                n, pos = _length(buf, pos, end)
                chunk = bytes(buf[pos:pos + n])
                pos += n
                if f.repeated or f.type == "map":
                    out.setdefault(number, []).append(chunk)
                elif f.type == "message":
                    out[number] = out.get(number, b"") + chunk
                else:
                    out[number] = chunk
                continue
            values, pos = self._numeric(buf, pos, end, wire, f, msg)
            if f.repeated:
                out.setdefault(number, []).extend(values)
            elif values:
                out[number] = values[-1]
        return out

    def _numeric(self, buf: bytes, pos: int, end: int, wire: int, f: Field,
                 msg: str) -> tuple[list[Any], int]:
        typ = f.type
        if wire == _LEN and f.repeated:  # packed
            n, pos = _length(buf, pos, end)
            stop = pos + n
            values: list[Any] = []
            while pos < stop:
                if typ in _VARINT_TYPES:
                    v, pos = _varint(buf, pos, stop)
                    values.append(_scalar_from_varint(typ, v))
                else:
                    size = 8 if typ in _FIXED64_TYPES else 4
                    if pos + size > stop:
                        raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
                    values.append(_scalar_fixed(typ, bytes(buf[pos:pos + size])))
                    pos += size
            return values, pos
        if typ in _VARINT_TYPES:
            if wire != _VARINT:
                raise self._wrong_wire(wire, f, msg)
            v, pos = _varint(buf, pos, end)
            return [_scalar_from_varint(typ, v)], pos
        if typ in _FIXED64_TYPES or typ in _FIXED32_TYPES:
            size = 8 if typ in _FIXED64_TYPES else 4
            if wire != (_FIXED64 if size == 8 else _FIXED32):
                raise self._wrong_wire(wire, f, msg)
            if pos + size > end:
                raise ProtobufDecodeError(ERR_UNEXPECTED_EOF)
            return [_scalar_fixed(typ, bytes(buf[pos:pos + size]))], pos + size
        raise ProtobufDecodeError(f"proto: {_short(msg)}: unsupported field type {typ}")

    @staticmethod
    def _wrong_wire(wire: int, f: Field, msg: str) -> ProtobufDecodeError:
        return ProtobufDecodeError(f"proto: wrong wireType = {wire} for field {_go_field(f.name)}")

    # -- conversions -----------------------------------------------------------------------

    def value(self, buf: bytes, msg: str, depth: int) -> Any:
        """The JSON value of an encoded ``msg``; None means "leave the field out"."""
        if msg == TIME or msg == MICRO_TIME:
            raw = self.fields(buf, msg, depth)
            seconds, nanos = int(raw.get(1, 0)), int(raw.get(2, 0))
            if seconds == 0 and nanos == 0:
                return None
            return _format_time(seconds, nanos if msg == MICRO_TIME else 0, micro=msg == MICRO_TIME)
        if msg == QUANTITY or msg == QUANTITY_VALUE:
            raw = self.fields(buf, msg, depth)
            return _string(raw.get(1, b"")) or "0"
        if msg == INT_OR_STRING:
            raw = self.fields(buf, msg, depth)
            if int(raw.get(1, 0)) == 1:
                return _string(raw.get(3, b""))
            return int(raw.get(2, 0))
        if msg == DURATION:
            raw = self.fields(buf, msg, depth)
            return go_duration(int(raw.get(1, 0)))
        if msg == RAW_EXTENSION or msg == FIELDS_V1:
            raw = self.fields(buf, msg, depth)
            return self.raw_json(raw.get(1, b""), depth)
        if msg in self.table.wrappers:
            raw = self.fields(buf, msg, depth)
            return [_string(x) for x in raw.get(1, [])]
        return self.obj(buf, msg, depth)

    def raw_json(self, data: bytes, depth: int) -> Any:
        """RawExtension/FieldsV1 bytes: JSON text, or a nested ``k8s\\0`` envelope."""
        if not data:
            return None
        if data.startswith(MAGIC):
            return self.envelope(data, depth + 1)
        try:
            return json.loads(data)
        except ValueError as e:
            raise ProtobufDecodeError(f"invalid JSON in raw extension: {e}") from None

    def obj(self, buf: bytes, msg: str, depth: int) -> JSON:
        raw = self.fields(buf, msg, depth)
        out: JSON = {}
        for f in self.table.order[msg]:
            if f.number not in raw:
                continue
            v = raw[f.number]
            if f.type == "map":
                out[f.name] = self.map_value(v, f, msg, depth)
            elif f.type == "message":
                assert f.ref is not None
                if f.repeated:
                    out[f.name] = [self.value(x, f.ref, depth + 1) for x in v]
                    continue
                conv = self.value(v, f.ref, depth + 1)
                if f.inline:
                    if isinstance(conv, dict):
                        out.update(conv)
                elif conv is not None:
                    out[f.name] = conv
            elif f.repeated:
                out[f.name] = [self.scalar(x, f.type) for x in v]
            else:
                s = self.scalar(v, f.type)
                if _is_zero(v) and "p" not in f.flags and ("o" in f.flags or "?" in f.flags):
                    continue
                out[f.name] = s
        return out

    @staticmethod
    def scalar(v: Any, typ: str) -> Any:
        if typ == "string":
            return _string(v)
        if typ == "bytes":
            return _bytes_value(v)
        return v

    def map_value(self, entries: list[bytes], f: Field, msg: str, depth: int) -> JSON:
        out: JSON = {}
        key_type = f.key_type or "string"
        value_type = f.value_type or "string"
        entry_fields = {
            1: Field(1, "key", key_type, None, False, ""),
            2: Field(2, "value", value_type, f.ref, False, ""),
        }
        entry_name = f"{msg}.{_go_field(f.name)}Entry"
        for chunk in entries:
            raw = self.fields(chunk, entry_name, depth + 1, entry_fields)
            key = raw.get(1, b"" if key_type == "string" else 0)
            k = _string(key) if isinstance(key, bytes) else str(key)
            if value_type == "message":
                assert f.ref is not None
                out[k] = self.value(raw.get(2, b""), f.ref, depth + 1)
            elif value_type in ("string", "bytes"):
                out[k] = self.scalar(raw.get(2, b""), value_type)
            else:
                out[k] = raw.get(2, False if value_type == "bool" else 0)
        return out

    # -- envelope ----------------------------------------------------------------------------

    def envelope(self, body: bytes, depth: int = 0) -> JSON:
        if depth > MAX_DEPTH:
            raise ProtobufDecodeError(ERR_TOO_DEEP)
        if len(body) == 0:
            raise ProtobufDecodeError(ERR_EMPTY_DATA)
        if not body.startswith(MAGIC):
            raise ProtobufDecodeError(ERR_NO_PREFIX)
        if len(body) == len(MAGIC):
            raise ProtobufDecodeError(ERR_EMPTY_BODY)
        unknown = self.fields(body[len(MAGIC):], UNKNOWN, depth)
        type_meta = self.fields(unknown.get(1, b""), "k8s.io.apimachinery.pkg.runtime.TypeMeta", depth + 1)
        api_version = _string(type_meta.get(1, b""))
        kind = _string(type_meta.get(2, b""))
        go_type_meta = f'runtime.TypeMeta{{APIVersion:"{api_version}", Kind:"{kind}"}}'
        if not kind:
            raise ProtobufDecodeError(f"Object 'Kind' is missing in '{go_type_meta}'", api_version or None)
        if not api_version:
            raise ProtobufDecodeError(f"Object 'apiVersion' is missing in '{go_type_meta}'", None, kind)
        encoding = _string(unknown.get(3, b""))
        content_type = _string(unknown.get(4, b""))
        raw = unknown.get(2, b"")
        if encoding:
            raise ProtobufDecodeError(f"unsupported content encoding {encoding!r}", api_version, kind)
        if content_type.startswith("application/json"):
            obj = self.raw_json(raw, depth)
            if not isinstance(obj, dict):
                raise ProtobufDecodeError("embedded JSON is not an object", api_version, kind)
            return {"apiVersion": api_version, "kind": kind, **obj}
        msg = self.table.message_for(api_version, kind)
        if msg is None:
            raise ProtobufDecodeError(
                f'no kind "{kind}" is registered for version "{api_version}" in scheme '
                f'"pkg/api/legacyscheme/scheme.go:30"', api_version, kind)
        try:
            obj = self.obj(raw, msg, depth + 1)
        except ProtobufDecodeError as e:
            raise ProtobufDecodeError(e.message, api_version, kind) from None
        return {"apiVersion": api_version, "kind": kind, **obj}


def _is_zero(v: Any) -> bool:
    return v == 0 or v == b"" or v is False


def _format_time(seconds: int, nanos: int, micro: bool) -> str:
    try:
        t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise ProtobufDecodeError("Time.MarshalJSON: year outside of range [0,9999]") from None
    if micro:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``1h0m0s``, ``1.5s``, ``300ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if u >= size:
                return sign + _frac(u, size) + unit
    secs, frac_ns = divmod(u, 1_000_000_000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    s_text = _frac(s * 1_000_000_000 + frac_ns, 1_000_000_000) + "s"
    if h:
        return f"{sign}{h}h{m}m{s_text}"
    if m:
        return f"{sign}{m}m{s_text}"
    return sign + s_text


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def decode(body: bytes, table: Table | None = None) -> JSON:
    """Decode a ``k8s\\0``-prefixed protobuf body into a JSON-shaped dict with apiVersion/kind.

    Raises :class:`ProtobufDecodeError` for anything malformed; never another exception.
    """
    dec = _Decoder(table or load_table())
    try:
        return dec.envelope(bytes(body))
    except ProtobufDecodeError:
        raise
    except (RecursionError, ValueError, OverflowError, IndexError, KeyError, TypeError) as e:
        raise ProtobufDecodeError(f"invalid protobuf body: {e}") from None


def decode_message(data: bytes, message: str, table: Table | None = None) -> JSON:
    """Decode a bare message (no envelope) of the named type, e.g. for tests or nested raw data."""
    t = table or load_table()
    if message not in t.messages:
        raise ProtobufDecodeError(f"unknown message {message}")
    dec = _Decoder(t)
    try:
        return dec.obj(bytes(data), message, 0)
    except ProtobufDecodeError:
        raise
    except (RecursionError, ValueError, OverflowError, IndexError, KeyError, TypeError) as e:
        raise ProtobufDecodeError(f"invalid protobuf body: {e}") from None


def summarize_data(data: bytes, max_length: int = 30) -> str:
    """apiserver's ``summarizeData``: JSON-looking bodies as text, anything else as hex."""
    if not data:
        return "<empty>"
    head = data[:max_length]
    text = head.decode("utf-8", errors="replace") if data[:1] == b"{" else head.hex()
    return text + " ..." if len(data) > max_length else text


def decode_error_status(err: ProtobufDecodeError, body: bytes, expected_kind: str) -> ApiError:
    """The 400 a real server answers (``transformDecodeError`` in apiserver's handlers).

    ``expected_kind`` is the kind of the resource the request was sent to, e.g. ``ConfigMap``.
    """
    if err.kind:
        version = (err.api_version or "").rpartition("/")[2]
        return bad_request(f'{err.kind} in version "{version}" cannot be handled as a {expected_kind}: '
                           f"{err.message}")
    return bad_request(f"the object provided is unrecognized (must be of type {expected_kind}): "
                       f"{err.message} ({summarize_data(body)})")
