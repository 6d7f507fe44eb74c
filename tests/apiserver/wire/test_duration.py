"""Age cells must be apimachinery's HumanDuration to the letter."""

from __future__ import annotations

import pytest

from minikube_lite.apiserver.wire.duration import age, human_duration, short_human_duration
from minikube_lite.clock import parse_time

M = 60
H = 3600
D = 86400
Y = 365 * D


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"),
    (-2, "<invalid>"),
    (-1.5, "0s"),
    (-1, "0s"),
    (-0.2, "0s"),
    (0, "0s"),
    (0.9, "0s"),
    (1, "1s"),
    (59, "59s"),
    (119, "119s"),
    (120, "2m"),
    (134, "2m14s"),
    (9 * M + 59, "9m59s"),
    (10 * M, "10m"),
    (10 * M + 30, "10m"),
    (179 * M, "179m"),
    (3 * H, "3h"),
    (3 * H + 5 * M, "3h5m"),
    (7 * H + 59 * M + 59, "7h59m"),
    (8 * H, "8h"),
    (47 * H + 59 * M, "47h"),
    (48 * H, "2d"),
    (2 * D + 5 * H, "2d5h"),
    (7 * D + 23 * H, "7d23h"),
    (8 * D, "8d"),
    (729 * D, "729d"),
    (2 * Y, "2y"),
    (2 * Y + 10 * D, "2y10d"),
    (8 * Y, "8y"),
    (12 * Y + 100 * D, "12y"),
])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (-3, "<invalid>"), (-1, "0s"), (0, "0s"), (59, "59s"), (60, "1m"), (59 * M + 59, "59m"),
    (H, "1h"), (23 * H + 59 * M, "23h"), (D, "1d"), (364 * D, "364d"), (Y, "1y"), (3 * Y + 5, "3y"),
])
def test_short_human_duration(seconds: float, text: str) -> None:
    assert short_human_duration(seconds) == text


NOW = parse_time("2025-06-02T10:00:00Z") or 0.0


@pytest.mark.parametrize(("stamp", "text"), [
    (None, "<unknown>"),
    ("", "<unknown>"),
    ("0001-01-01T00:00:00Z", "<unknown>"),
    ("garbage", "<unknown>"),
    ("2025-06-02T09:55:00Z", "5m"),
    ("2025-06-02T09:57:46Z", "2m14s"),
    ("2025-06-02T09:59:59.500000Z", "0s"),
    ("2025-06-02T10:00:01Z", "0s"),
    ("2025-06-02T10:00:03Z", "<invalid>"),
    ("2025-05-30T10:00:00Z", "3d"),
])
def test_age(stamp: str | None, text: str) -> None:
    assert age(stamp, NOW) == text
