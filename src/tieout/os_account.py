"""The operating-system account a command-line process acts from, recorded beside the name it claims.

On the command line `--who` and `--as` are words anyone can type; the account the process runs as is not: it
comes from the kernel (the effective uid, looked up in the password database — never `$USER` or `$LOGNAME`,
which the caller sets). `tieout` marks each command's run with it (`on_the_command_line`), and everything that
writes a correction, a correction request, a decision or an audit entry records `current()` beside the claimed
name. The web app is not a command: there the signed-in user is the identity, and `current()` is None.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_acting: ContextVar[str | None] = ContextVar("tieout_os_user", default=None)


def os_user() -> str:
    """The name of the process's effective uid (`uid 1234` when the password database has none)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def current() -> str | None:
    """The OS account of the command being run; None outside one (the web app, a library call)."""
    return _acting.get()


@contextmanager
def on_the_command_line() -> Iterator[str]:
    """Mark what runs inside as done by this process's OS account, from the command line."""
    token = _acting.set(os_user())
    try:
        yield _acting.get() or ""
    finally:
        _acting.reset(token)
