"""The JSON codec of CSI messages over HTTP, compiled once per message type.

Why compiled: a CreateVolumeRequest of a large cluster carries a topology term per node, and
walking every value reflectively (``is_dataclass``, ``isinstance``, type hints per field) for
each of thousands of terms was most of the CPU of both ends in the split-process benchmark. A
:class:`Codec` turns each type into an encoder and a decoder on first use, from the type hints
of the message class: a dataclass becomes a tuple of (field name, field encoder/decoder), a
``list[X]`` or ``dict[str, X]`` one loop over ``X``'s, an enum a lookup by name.

A value that needs no conversion has no encoder (``None``) and is handed to orjson as it is:
primitives, lists and dicts of them, and dataclasses with no enum anywhere inside (``Topology``,
``CapacityRange``), which orjson writes itself, field by field in definition order (it writes
an instance's public attributes, and CSI messages carry only their fields). The bytes are the
same as writing every dataclass as an object of its fields, with enums by name.

Decoding is the inverse: ``null`` is ``None`` for every type, unknown object keys are ignored,
a missing field takes its default, and a union of enums (``PluginCapability |
VolumeExpansion``) is decided by the member name.

``overrides``: a few classes may be written differently on one connection; the term-list
references of ``term_lists.py`` replace a ``TopologyRequirement``'s lists this way.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from . import spec

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


@functools.cache
def field_types(tp: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type) of a message class's fields, resolved once per class."""
    hints = typing.get_type_hints(tp, vars(spec))
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp))


def _enum_name(value: Any) -> Any:
    return None if value is None else value.name


def _each(item: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A list's coder from its items' (None: the items, hence the list, need no conversion)."""
    if item is None:
        return None
    return lambda v: None if v is None else [item(x) for x in v]


def _values(item: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A ``dict[str, X]``'s coder from ``X``'s."""
    if item is None:
        return None
    return lambda v: None if v is None else {k: item(x) for k, x in v.items()}


class Codec:
    """Encoders and decoders per type, built on first use; ``encoders``/``decoders`` override some classes."""

    def __init__(self, encoders: Mapping[type, Encoder] | None = None,
                 decoders: Mapping[type, Decoder] | None = None) -> None:
        self._encoder_overrides = dict(encoders or {})
        self._decoder_overrides = dict(decoders or {})
        self._encoders: dict[Any, Encoder | None] = {}
        self._decoders: dict[Any, Decoder | None] = {}

    # ------------------------------------------------------------ top level

    def encode(self, value: Any) -> Any:
        """``value`` as data orjson writes in the wire format (by its runtime type)."""
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            return {k: self.encode(v) for k, v in value.items()}
        if isinstance(value, enum.Enum):
            return value.name
        enc = self.encoder(type(value)) if dataclasses.is_dataclass(value) else None
        return value if enc is None else enc(value)

    def dumps(self, value: Any) -> bytes:
        """``value`` in the wire format."""
        return orjson.dumps(self.encode(value))

    def decode(self, tp: Any, data: Any) -> Any:
        """The value of type ``tp`` (a message class or a typing form) that ``data`` encodes."""
        dec = self.decoder(tp)
        return data if dec is None else dec(data)

    def loads(self, tp: Any, raw: bytes) -> Any:
        return self.decode(tp, orjson.loads(raw))

    # ------------------------------------------------------------ compiling

    def encoder(self, tp: Any) -> Encoder | None:
        """The encoder of ``tp``, or None when orjson writes its values as they are."""
        try:
            return self._encoders[tp]
        except KeyError:
            pass
        enc = self._encoder_overrides.get(tp) or self._compile_encoder(tp)
        self._encoders[tp] = enc
        return enc

    def decoder(self, tp: Any) -> Decoder | None:
        """The decoder of ``tp``, or None when the parsed JSON already is the value."""
        try:
            return self._decoders[tp]
        except KeyError:
            pass
        dec = self._decoder_overrides.get(tp) or self._compile_decoder(tp)
        self._decoders[tp] = dec
        return dec

    def _compile_encoder(self, tp: Any) -> Encoder | None:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(tp) if a is not type(None)]
            encoders = [self.encoder(a) for a in inner]
            if all(e is None for e in encoders):
                return None
            if all(isinstance(a, type) and issubclass(a, enum.Enum) for a in inner):
                return _enum_name
            if len(inner) == 1:
                one = typing.cast(Encoder, encoders[0])
                return lambda v: None if v is None else one(v)
            return self.encode      # a union of different messages: by the value's own type
        if origin is list:
            return _each(self.encoder(typing.get_args(tp)[0]))
        if origin is dict:
            return _values(self.encoder(typing.get_args(tp)[1]))
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum_name
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self._dataclass_encoder(tp)
        return None

    def _dataclass_encoder(self, tp: type) -> Encoder | None:
        fields = tuple((name, self.encoder(hint)) for name, hint in field_types(tp))
        if all(enc is None for _, enc in fields):
            return None

        def encode_message(value: Any) -> Any:
            if value is None:
                return None
            out = {}
            for name, enc in fields:
                v = getattr(value, name)
                out[name] = v if enc is None else enc(v)
            return out
        return encode_message

    def _compile_decoder(self, tp: Any) -> Decoder | None:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(tp) if a is not type(None)]
            enums = [a for a in inner if isinstance(a, type) and issubclass(a, enum.Enum)]
            if len(enums) > 1:
                return functools.partial(_decode_enum_union, tuple(enums), self.decoder(inner[0]))
            return self.decoder(inner[0])   # X | None: null is None for every decoder
        if origin is list:
            return _each(self.decoder(typing.get_args(tp)[0]))
        if origin is dict:
            return _values(self.decoder(typing.get_args(tp)[1]))
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            members = tp.__members__
            return lambda v: None if v is None else members[v]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self._dataclass_decoder(tp)
        return None

    def _dataclass_decoder(self, tp: type) -> Decoder:
        fields = tuple((name, self.decoder(hint)) for name, hint in field_types(tp))
        make: Any = tp

        def decode_message(data: Any) -> Any:
            if data is None:
                return None
            kwargs = {}
            for name, dec in fields:
                if name in data:
                    v = data[name]
                    kwargs[name] = v if dec is None else dec(v)
            return make(**kwargs)

        if any(dec is not None for _, dec in fields):
            return decode_message

        def decode_plain(data: Any) -> Any:
            """Every field as parsed (``Topology``): the object's keys are the arguments."""
            if data is None:
                return None
            try:
                return make(**data)
            except TypeError:   # an unknown key, or not an object: the general path decides
                return decode_message(data)
        return decode_plain


def _decode_enum_union(enums: tuple[type[enum.Enum], ...], first: Decoder | None, data: Any) -> Any:
    """``PluginCapability | VolumeExpansion`` and the like: the enum that has the member name."""
    if isinstance(data, str):
        for candidate in enums:
            if data in candidate.__members__:
                return candidate[data]
    return data if first is None else first(data)


#: The plain wire format (every list in full), as every process spoke it before term lists.
PLAIN = Codec()

__all__ = ["Codec", "PLAIN", "field_types", "Encoder", "Decoder"]
