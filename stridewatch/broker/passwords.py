"""Mosquitto's password file format, in Python: ``login:$7$ITERATIONS$SALT$HASH`` lines.

``$7$`` is PBKDF2-HMAC-SHA512 over a 12-byte random salt, both base64-encoded: what
``mosquitto_passwd`` (2.0) writes and the broker checks. Hashing here keeps passwords off
command lines (``mosquitto_passwd -b`` shows them to ``ps``) and lets `verify` tell whether
a password given again is the one already provisioned.

>>> encoded = hash_password("correct horse", salt=bytes(12))
>>> encoded[:24]
'$7$101$AAAAAAAAAAAAAAAA$'
>>> verify("correct horse", encoded), verify("wrong horse", encoded)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

__all__ = ["hash_password", "read_password_file", "verify"]

# mosquitto_passwd's own default; generated passwords carry 256 random bits, which no
# iteration count could make stronger, and the broker pays this cost on every connect.
_ITERATIONS = 101
_SALT_BYTES = 12


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = _ITERATIONS) -> str:
    """``password`` in mosquitto's ``$7$`` format, with a fresh random salt unless one is given."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, encoded: str) -> bool:
    """Whether ``password`` is the one ``encoded`` (a ``$7$`` entry) was made from."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    salt = base64.b64decode(parts[3])
    return hmac.compare_digest(hash_password(password, salt=salt, iterations=int(parts[2])), encoded)


def read_password_file(path: Path) -> dict[str, str]:
    """login -> encoded password, from a mosquitto password file (empty when there is none yet)."""
    if not path.exists():
        return {}
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        login, sep, encoded = line.partition(":")
        if sep and not line.startswith("#"):
            entries[login] = encoded
    return entries
