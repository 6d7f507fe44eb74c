"""``kubectl auth can-i``, ``auth whoami`` and ``create token`` (protobuf bodies on kubectl >= 1.32)."""

from __future__ import annotations

import base64
import json

import pytest
from kubectl_runner import Kubectl

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_auth_can_i_and_whoami(kubectl: Kubectl) -> None:
    assert (await kubectl.ok("auth", "can-i", "create", "pods")).strip() == "yes"
    assert (await kubectl.ok("auth", "can-i", "delete", "pvc", "-n", "kube-system")).strip() == "yes"
    listed = await kubectl.ok("auth", "can-i", "--list")
    assert listed.splitlines()[0].split()[:2] == ["Resources", "Non-Resource"]
    who = await kubectl.ok("auth", "whoami")
    assert "minikube-lite-admin" in who and "system:masters" in who


async def test_create_token_for_a_service_account(kubectl: Kubectl) -> None:
    token = (await kubectl.ok("create", "token", "default", "--duration=1h")).strip()
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == "system:serviceaccount:default:default"
    assert claims["exp"] - claims["iat"] == 3600
    missing = await kubectl.fail("create", "token", "nobody")
    assert 'serviceaccounts "nobody" not found' in missing.err
