"""Notifications (issue 6): each team hears about its exceptions on its own channels.

- **P1s right after the run** that finds them (`p1.notify_p1s`, called by `tieout run` and `tieout backfill`):
  each P1 open on the latest stored day, one message each;
- **the daily digest** (`digest.send_digests`, `tieout notify digest`): per team and channel, what changed
  since that channel's last digest — new, reopened, more severe, resolved — P1s first.

`ledger` holds the dedupe rule (an episode already delivered at its severity is not sent again; a reopening
or a higher severity is) and logs every delivery; `deliver` sends through apprise with retries and never
raises; `log` is the notifications table. A failed delivery never fails or rolls back the run: the caller
gets the failures to warn about, and the next run or digest tries again.
"""

from __future__ import annotations

from tieout.notify.digest import send_digests
from tieout.notify.ledger import Outcome
from tieout.notify.p1 import notify_p1s

__all__ = ["Outcome", "notify_p1s", "send_digests"]
