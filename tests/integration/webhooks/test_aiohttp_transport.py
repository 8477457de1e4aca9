"""The aiohttp transport against a real HTTP server on loopback: what it sends, the addresses
it refuses (checked where it connects, not only at registration), no redirects, bounded
waits and answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from smarter.adapters.aiohttp_webhook_transport import AiohttpWebhookTransport
from smarter.application.webhook_ports import Unreachable, UnsafeDestination


class Receiver:
    """Answers POSTs by path: /ok 204, /redirect 302 to /ok, /big 200 with 50 MB, /slow
    holds the answer until released."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/ok")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/big":
                    self.send_response(200)
                    self.send_header("Content-Length", str(50 * 1024 * 1024))
                    self.end_headers()
                    try:
                        for _ in range(50 * 16):
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        pass  # the client stopped reading, as it should
                elif self.path == "/slow":
                    receiver.release.wait(30)
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


async def test_a_message_is_posted_with_its_headers_and_the_status_comes_back(
    receiver: Receiver,
) -> None:
    transport = AiohttpWebhookTransport(allow_private=True)
    try:
        status = await transport.post(
            receiver.url("/ok"), {"webhook-id": "msg_1", "content-type": "application/json"}, b"{}"
        )
    finally:
        await transport.aclose()

    assert status == 204
    ((path, headers, body),) = receiver.requests
    assert (path, headers["webhook-id"], body) == ("/ok", "msg_1", b"{}")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_at_registration_and_where_it_connects(
    receiver: Receiver, host: str
) -> None:
    """`localhost` passes no IP check at registration time by its name: the resolved address
    is what is refused, at registration and again at the connection (DNS rebinding)."""
    transport = AiohttpWebhookTransport(allow_private=False)
    try:
        with pytest.raises(UnsafeDestination, match="loopback"):
            await transport.check_destination(receiver.url("/ok", host))
        with pytest.raises(Unreachable, match=r"refused: .*loopback"):
            await transport.post(receiver.url("/ok", host), {}, b"{}")
    finally:
        await transport.aclose()

    assert receiver.requests == []


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    transport = AiohttpWebhookTransport(allow_private=False)
    try:
        with pytest.raises(UnsafeDestination, match="does not resolve"):
            await transport.check_destination("https://no-such-host.invalid/hook")
    finally:
        await transport.aclose()


async def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    transport = AiohttpWebhookTransport(allow_private=True)
    try:
        status = await transport.post(receiver.url("/redirect"), {}, b"{}")
    finally:
        await transport.aclose()

    assert status == 302
    assert [path for path, _, _ in receiver.requests] == ["/redirect"]


async def test_a_huge_answer_is_not_read_to_the_end(receiver: Receiver) -> None:
    transport = AiohttpWebhookTransport(allow_private=True, max_response_bytes=1024)
    try:
        assert await transport.post(receiver.url("/big"), {}, b"{}") == 200
    finally:
        await transport.aclose()


async def test_an_endpoint_that_does_not_answer_in_time_is_unreachable(
    receiver: Receiver,
) -> None:
    transport = AiohttpWebhookTransport(allow_private=True, timeout_seconds=0.2)
    try:
        with pytest.raises(Unreachable, match=r"no response within 0\.2 s"):
            await transport.post(receiver.url("/slow"), {}, b"{}")
    finally:
        await transport.aclose()
        receiver.release.set()


async def test_a_closed_port_is_unreachable() -> None:
    transport = AiohttpWebhookTransport(allow_private=True, timeout_seconds=2)
    try:
        with pytest.raises(Unreachable, match="Connect"):
            await transport.post("http://127.0.0.1:9/hook", {}, b"{}")
    finally:
        await transport.aclose()
