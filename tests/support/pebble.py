"""Pebble, Let's Encrypt's test ACME server (Debian's `/usr/bin/pebble`), for integration tests.

`start_pebble(dns_port, folder)` writes a config with free loopback ports and a fresh
self-signed certificate for pebble's own listener, starts pebble with `-dnsserver
127.0.0.1:<dns_port>` (so its DNS-01 checks ask the test DNS server), waits until the ACME
directory answers and yields a `Pebble`:

- `directory_url`: the ACME directory, `https://127.0.0.1:<port>/dir`;
- `ca_bundle`: the listener's certificate, for the ACME client to trust;
- `root_pem()` / `intermediate_pem()`: the CA certificates pebble signs with (regenerated at
  every launch), read from its management interface, to verify what it issued.

Environment: `PEBBLE_VA_NOSLEEP=1` (validate at once), `PEBBLE_WFE_NONCEREJECT=0` (no random
bad nonces), `PEBBLE_AUTHZREUSE=0` (every order has fresh authorizations, so each one really
validates through DNS).

Run alone: `python -m tests.support.pebble --dns-port 5053`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PEBBLE = "/usr/bin/pebble"
STARTUP_SECONDS = 15.0


@dataclass(frozen=True)
class Pebble:
    directory_url: str
    management_url: str
    ca_bundle: str
    process: subprocess.Popen[bytes]

    def _get(self, path: str) -> str:
        context = ssl.create_default_context(cafile=self.ca_bundle)
        with urllib.request.urlopen(f"{self.management_url}{path}", context=context) as answer:
            return str(answer.read().decode())

    def root_pem(self) -> str:
        return self._get("/roots/0")

    def intermediate_pem(self) -> str:
        return self._get("/intermediates/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_listener_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost; it is its own trust anchor."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pebble test listener")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "pebble-listener.crt", folder / "pebble-listener.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _wait_for_directory(pebble: Pebble, log: Path) -> None:
    context = ssl.create_default_context(cafile=pebble.ca_bundle)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if pebble.process.poll() is not None:
            raise RuntimeError(f"pebble exited at startup:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(pebble.directory_url, context=context, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"pebble did not answer in time:\n{log.read_text()}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def start_pebble(dns_port: int, folder: Path) -> Iterator[Pebble]:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = write_listener_certificate(folder)
    acme_port, management_port = free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{acme_port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(cert_path),
            "privateKey": str(key_path),
            "httpPort": free_port(),
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    config_path = folder / "pebble-config.json"
    config_path.write_text(json.dumps(config))
    environment = {
        **os.environ,
        "PEBBLE_VA_NOSLEEP": "1",
        "PEBBLE_WFE_NONCEREJECT": "0",
        "PEBBLE_AUTHZREUSE": "0",
    }
    log = folder / "pebble.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PEBBLE, "-config", str(config_path), "-dnsserver", f"127.0.0.1:{dns_port}"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    pebble = Pebble(
        directory_url=f"https://127.0.0.1:{acme_port}/dir",
        management_url=f"https://127.0.0.1:{management_port}",
        ca_bundle=str(cert_path),
        process=process,
    )
    try:
        _wait_for_directory(pebble, log)
        yield pebble
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run pebble with a generated config.")
    parser.add_argument("--dns-port", type=int, default=5053)
    arguments = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        start_pebble(arguments.dns_port, Path(folder)) as pebble,
    ):
        print(f"directory: {pebble.directory_url}\nca bundle: {pebble.ca_bundle}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            pebble.process.wait()


if __name__ == "__main__":
    main()
