"""Password hashing with scrypt (RFC 7914) from the standard library's OpenSSL binding.

Format: ``scrypt$n$r$p$salt_b64$hash_b64`` so parameters can be raised later and old hashes
still verify (``needs_rehash`` tells when to upgrade one at the next sign-in).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

N, R, P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 8


def hash_password(password: str, *, n: int = N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, maxmem=_MAXMEM, dklen=32)
    return "$".join(
        ["scrypt", str(n), str(R), str(P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or int(parts[1]) < N


@functools.cache
def dummy_hash() -> str:
    """Verified against when the user name is unknown, so both paths cost the same time."""
    return hash_password("not a real password, only for timing")
