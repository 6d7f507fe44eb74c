"""The two ways a provisioning attempt ends without a volume (LIB ProvisioningState).

Apart so that request building, the data-source checks and the controller raise the same types.
"""

from __future__ import annotations

from ....client.runtime import TerminalError


class ProvisioningError(Exception):
    """A failed provisioning attempt: the message becomes the ``ProvisioningFailed`` event text.

    ``reschedule`` asks for the selected node to be removed (LIB ProvisioningReschedule);
    ``infeasible`` slows retries down (gRPC InvalidArgument).
    """

    def __init__(self, message: str, *, reschedule: bool = False, infeasible: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.reschedule = reschedule
        self.infeasible = infeasible


class IgnoredClaim(TerminalError):
    """The claim is not ours to provision (LIB IgnoredError): no retry."""
