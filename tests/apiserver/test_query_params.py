"""The shared query parameters: dryRun, integer parameters and resourceVersions, with upstream's errors."""

from __future__ import annotations

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.query_params import dry_run, int_param, parse_resource_version


def test_dry_run_is_all_or_absent() -> None:
    assert dry_run({"dryRun": "All"}) is True
    assert dry_run({}) is False
    with pytest.raises(ApiError) as err:
        dry_run({"dryRun": "Some"})
    assert (err.value.code, err.value.message) == (422, 'DryRun: Unsupported value: "Some": supported values: "All"')


def test_int_param() -> None:
    assert int_param({"limit": "5"}, "limit") == 5
    assert int_param({"limit": ""}, "limit") is None
    assert int_param({}, "limit") is None
    with pytest.raises(ApiError) as err:
        int_param({"limit": "five"}, "limit")
    assert err.value.code == 400
    assert err.value.message == "invalid value for limit: 'five'"


@pytest.mark.parametrize(("raw", "message"), [
    ("abc", 'invalid resource version: strconv.ParseUint: parsing "abc": invalid syntax'),
    ("-1", "invalid resource version: -1"),
])
def test_bad_resource_versions_are_400(raw: str, message: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_resource_version(raw)
    assert (err.value.code, err.value.message) == (400, message)


def test_resource_version_values() -> None:
    assert parse_resource_version("42") == 42
    assert parse_resource_version("0") == 0
    assert parse_resource_version("") is None
    assert parse_resource_version(None) is None
