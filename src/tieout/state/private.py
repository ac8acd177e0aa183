"""The SQLite state database is private to its owner (and to the project's group when the project is shared).

It holds password hashes, session hashes and the audit log, so nobody else on the machine may read it. SQLite
would create it `0644` (less the umask); tieout creates the empty file first with the right mode, and SQLite
gives its `-wal` and `-shm` files the database file's own mode. An existing file is tightened when opened.

The mode follows the store folder: `0600` normally; `0660` when the folder is group-writable, which is how a
project is shared between operating-system users (a second person approving from the command line must be
able to write the database: maker-checker needs two people, and on one machine they are two OS users). World
access is never kept.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("tieout.state")
PRIVATE = 0o600
SHARED = 0o660
SIDE_FILES = ("-wal", "-shm", "-journal")


def mode_for(folder: Path) -> int:
    """The mode the state database in `folder` should have at most."""
    return SHARED if folder.stat().st_mode & stat.S_IWGRP else PRIVATE


def make_private(database: Path) -> None:
    """Create `database` empty with the folder's mode if it is not there; remove, from it and its side files,
    every permission that mode does not allow (never adding any)."""
    allowed = mode_for(database.parent)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, allowed))
        os.chmod(database, allowed)  # os.open's mode was reduced by the umask: this is the exact one
    except FileExistsError:
        pass
    for path in (database, *(database.with_name(database.name + s) for s in SIDE_FILES)):
        try:
            current = stat.S_IMODE(path.stat().st_mode)
            if current & ~allowed:
                os.chmod(path, current & allowed)
        except FileNotFoundError:
            continue
        except PermissionError:  # another OS user's file: say so, and carry on with what the OS allows
            log.warning("%s is accessible to others (%o) and not ours to change: chmod o-rwx %s",
                        path, current, path)
