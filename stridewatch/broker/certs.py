"""Development TLS for the broker: a private CA and a server certificate it signs, made with ``openssl``.

Clients trust the CA (``STRIDEWATCH_MQTT_CAFILE=certs/ca.crt``, ``mosquitto_sub --cafile``);
the server certificate names every host clients use to reach the broker. For production, put
certificates from your own CA (or Let's Encrypt) in the same folder under the same names.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CERT_FILES", "make_dev_certs"]

CERT_FILES = ("ca.crt", "server.crt", "server.key")  # the names deploy/mosquitto/mosquitto.conf reads
_NEW_KEY = (
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
)  # P-256: small, fast, widely supported


def make_dev_certs(out: Path, hosts: Sequence[str], *, days: int = 825) -> list[Path]:
    """Write ``ca.crt``, ``server.crt`` and ``server.key`` (0600) into ``out`` for ``hosts``
    (DNS names or IP addresses); the CA's key is thrown away, so nothing else can be signed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("`openssl` is needed to make certificates (Debian/Ubuntu: apt-get install openssl)")
    if not hosts:
        raise ValueError("name at least one host the broker is reached by")
    out.mkdir(parents=True, exist_ok=True)
    names = ",".join(f"IP:{h}" if h.replace(".", "").isdigit() or ":" in h else f"DNS:{h}" for h in hosts)

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")

    with tempfile.TemporaryDirectory() as scratch:
        ca_key, csr = Path(scratch, "ca.key"), Path(scratch, "server.csr")
        run("req", "-x509", *_NEW_KEY, "-keyout", str(ca_key), "-out", str(out / "ca.crt"),
            "-days", str(days), "-subj", "/CN=stridewatch development CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
        run("req", *_NEW_KEY, "-keyout", str(out / "server.key"), "-out", str(csr),
            "-subj", f"/CN={hosts[0]}")  # fmt: skip
        extensions = Path(scratch, "server.ext")
        extensions.write_text(f"subjectAltName={names}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        run("x509", "-req", "-in", str(csr), "-CA", str(out / "ca.crt"), "-CAkey", str(ca_key), "-CAcreateserial",
            "-CAserial", str(Path(scratch, "ca.srl")), "-out", str(out / "server.crt"), "-days", str(days),
            "-extfile", str(extensions))  # fmt: skip
    (out / "server.key").chmod(0o600)
    return [out / name for name in CERT_FILES]
