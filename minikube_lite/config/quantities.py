"""Resource quantities in a cluster file (node capacity, a local driver's pool size).

The grammar is :mod:`minikube_lite.kube.quantity`'s; only the error speaks the config file's
language (``invalid quantity "abc"``) so a bad node capacity names the value it could not read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from ..kube import quantity as kube_quantity

__all__ = ["Quantity", "parse_quantity"]


def parse_quantity(value: str | int | float) -> Decimal:
    """A Kubernetes ``resource.Quantity`` as an exact Decimal (``"1.5Gi"``, ``"500m"``, ``"1e3"``)."""
    text = str(value).strip()
    try:
        return kube_quantity.parse_quantity(text)
    except kube_quantity.QuantityError:
        raise ValueError(f'invalid quantity "{text}"') from None


def _quantity(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f'invalid quantity "{value}"')
    text = str(value).strip()
    parse_quantity(text)
    return text


#: A quantity field: kept as the text the file gave, checked to parse.
Quantity = Annotated[str, BeforeValidator(_quantity)]
