"""batch/v1 controllers of kube-controller-manager: Job, CronJob and TTL-after-finished.

They act only through the API client: Jobs own their pods (controller ownerReference plus the
``batch.kubernetes.io/job-tracking`` finalizer), CronJobs own their Jobs, and the garbage
collector cascades deletes.
"""

from .cronjob import CronJobController
from .job import JobController
from .ttl import TTLAfterFinishedController

__all__ = ["CronJobController", "JobController", "TTLAfterFinishedController"]
