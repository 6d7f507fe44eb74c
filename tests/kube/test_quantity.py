"""resource.Quantity parsing and canonical printing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from minikube_lite.kube.quantity import (
    ERR_FORMAT_WRONG,
    ERR_NUMERIC,
    ERR_SUFFIX,
    QuantityError,
    canonical,
    compare,
    format_quantity,
    milli_value,
    parse_quantity,
    resource_units,
    value,
)


@pytest.mark.parametrize(("text", "value", "canon"), [
    ("1Gi", Decimal(2**30), "1Gi"),
    ("1024Mi", Decimal(2**30), "1Gi"),
    ("1536Mi", Decimal(1536 * 2**20), "1536Mi"),
    ("1.5Gi", Decimal(1536 * 2**20), "1536Mi"),
    ("0.5Gi", Decimal(2**29), "512Mi"),
    ("500Mi", Decimal(500 * 2**20), "500Mi"),
    ("100Ki", Decimal(102400), "100Ki"),
    ("1023Ki", Decimal(1023 * 1024), "1023Ki"),
    ("0.5Ki", Decimal(512), "512"),
    ("100m", Decimal("0.1"), "100m"),
    ("1000m", Decimal(1), "1"),
    ("1500m", Decimal("1.5"), "1500m"),
    ("1.5", Decimal("1.5"), "1500m"),
    ("0.1", Decimal("0.1"), "100m"),
    ("1000", Decimal(1000), "1k"),
    ("1500", Decimal(1500), "1500"),
    ("2k", Decimal(2000), "2k"),
    ("10G", Decimal(10**10), "10G"),
    ("1E", Decimal(10**18), "1E"),
    ("1e3", Decimal(1000), "1e3"),
    ("1e-3", Decimal("0.001"), "1e-3"),
    ("0", Decimal(0), "0"),
    ("0Gi", Decimal(0), "0"),
    ("-1Gi", Decimal(-(2**30)), "-1Gi"),
    ("+5", Decimal(5), "5"),
    ("1.0000000001", Decimal("1.000000001"), "1000000001n"),
    (".5", Decimal("0.5"), "500m"),
    ("5.", Decimal(5), "5"),
    ("1.5Ki", Decimal(1536), "1536"),
    ("1.5Mi", Decimal(1536 * 1024), "1536Ki"),
    ("1025Ki", Decimal(1025 * 1024), "1025Ki"),
])
def test_parse_and_canonical(text: str, value: Decimal, canon: str) -> None:
    assert parse_quantity(text) == value
    assert format_quantity(text) == canon
    assert canonical(text) == canon


@pytest.mark.parametrize(("text", "message"), [
    ("", ERR_FORMAT_WRONG), ("abc", ERR_FORMAT_WRONG), (" 1", ERR_FORMAT_WRONG), ("1Zi", ERR_FORMAT_WRONG),
    ("1 Gi", ERR_FORMAT_WRONG), ("1.2.3", ERR_NUMERIC), (".", ERR_NUMERIC), ("1e", ERR_SUFFIX), ("1Kii", ERR_SUFFIX),
])
def test_bad_quantities(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert str(info.value) == message


def test_canonical_numbers_and_compare() -> None:
    assert canonical(5) == "5"
    assert canonical(1024) == "1024"
    assert canonical("garbage") == "garbage"
    assert compare("1Gi", "1024Mi") == 0
    assert compare("1G", "1Gi") == -1
    assert compare("2", "1500m") == 1
    assert format_quantity(Decimal(2**30), "BinarySI") == "1Gi"
    assert format_quantity(Decimal(2**30)) == "1073741824"


@pytest.mark.parametrize(
    ("q", "units", "millis"),
    [("1", 1, 1000), ("500m", 1, 500), ("1.5Gi", 3 * 2**29, 3 * 2**29 * 1000), (2, 2, 2000), (0.25, 1, 250),
     ("1n", 1, 1), ("not-a-quantity", 0, 0)],
)
def test_value_and_milli_value_round_up_as_upstream(q: object, units: int, millis: int) -> None:
    """``Value()``/``MilliValue()`` round up; the scheduler and the volume binder both compare with them."""
    assert value(q) == units
    assert milli_value(q) == millis
    assert resource_units("cpu", q) == millis
    assert resource_units("memory", q) == units
