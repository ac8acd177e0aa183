"""The workflow on exceptions: acknowledge, assign, comment, resolve, suppress (approved by a second person).

Pure functions over the state store (`tieout.state`): the CLI and the web call the same `act`, which authorises
the actor on the server from the users table, checks the version the action was based on, records the action
and its audit entry in one transaction — and records a refusal or a conflict in the audit log too.
"""

from __future__ import annotations

from tieout.workflow.core import (
           KINDS,
           REASON_CODES,
           Status,
           Target,
           act,
           actions_on,
           find,
           status_of,
           statuses,
           target_of,
)
from tieout.workflow.rules import authorise

__all__ = ["KINDS", "REASON_CODES", "Status", "Target", "act", "authorise", "find", "actions_on", "status_of",
           "statuses", "target_of"]
