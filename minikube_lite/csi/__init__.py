"""CSI-shaped drivers: the controller/node service protocol, a cloud-disk and a local driver."""

from .cloud_disk import CloudDiskDriver, choose_zone, cloud_error_to_csi
from .local import LocalDriver
from .registration import register_drivers
from .registry import build_drivers
from .spec import Code, CsiDriver, CsiError

__all__ = ["CloudDiskDriver", "LocalDriver", "CsiDriver", "CsiError", "Code", "build_drivers",
           "register_drivers", "choose_zone", "cloud_error_to_csi"]
