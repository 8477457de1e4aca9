"""moto's Route 53 (and any other AWS service moto fakes) over real HTTP on loopback.

`start_moto_server()` starts `ThreadedMotoServer` on a free port of 127.0.0.1 and returns it
with its endpoint URL; `moto_server()` does the same as a context manager that stops it after.
Run: `python -m tests.support.moto_server --port 5000`.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

# boto3 needs credentials to sign requests; moto accepts any. Tests pass these explicitly so
# nothing reads ~/.aws.
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def start_moto_server(port: int = 0) -> tuple[ThreadedMotoServer, str]:
    """A running server and its endpoint URL (port 0: a free port)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    server, url = start_moto_server(port)
    try:
        yield url
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    with moto_server(args.port) as url:
        print(f"moto listening on {url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
