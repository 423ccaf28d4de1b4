"""What can go wrong while provisioning or revoking a device, each with a clear message."""

from __future__ import annotations


class ProvisioningError(Exception):
    """Provisioning or revoking failed; nothing was changed unless the message says so."""


class DeviceExistsError(ProvisioningError):
    """The device id is already provisioned (revoke it first, or choose another id)."""


class UnknownDeviceError(ProvisioningError):
    """The device id is not provisioned at this site (or was already revoked)."""


class CertificateProblem(ProvisioningError):
    """A certificate cannot be used: expired, not yet valid, foreign, revoked or malformed.

    ``kind`` is one of ``expired``, ``not_yet_valid``, ``foreign_ca``, ``revoked``,
    ``not_for_clients``, ``unreadable``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class WrongPasswordError(ProvisioningError):
    """A password does not match the device's entry in the broker's password file."""
