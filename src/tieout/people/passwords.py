"""Password hashing with the standard library's scrypt: a random salt per password, constant-time comparison.

Stored as `scrypt$N$r$p$salt_hex$hash_hex`, so the cost can be raised later without breaking old hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

# 2^14 × 8 × 128 bytes = 16 MiB and ~50 ms per check: slow for guessing, fine for a login.
N, R, P = 2**14, 8, 1
_LEN = 32


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=_LEN)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


@cache
def dummy_hash() -> str:
    """Checked against when the user does not exist, so an unknown name costs as long as a wrong password.
    Made at the first sign-in, not at import: a command that only reads should not spend 50 ms hashing."""
    return hash_password(secrets.token_hex(8))
