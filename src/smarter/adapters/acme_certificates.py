"""Certificates from an ACME CA (Let's Encrypt; pebble in tests), DNS-01 done by the worker.

One `request` runs one whole order, bounded by `order_timeout`:

1. the ACME account: its key is kept in the store (the first worker's key wins, so restarts
   and other workers reuse it); the account is registered once per process (an existing
   account for that key is found again by the CA's 200 + Location answer);
2. a fresh private key and a CSR for the hosts (a wildcard `*.x` is validated at
   `_acme-challenge.x`, so `x` and `*.x` in one order put two values on one TXT name);
3. the `_acme-challenge` TXT records are written through the DnsZones port where
   `place_challenge(name)` says: the zone and name a customer's `_acme-challenge` CNAME points
   to (a custom hostname's challenges live in the platform's zone), else the name itself in
   its enclosing zone; then (optionally) waited on until Route 53 reports them INSYNC;
4. the challenges are answered, the authorizations polled, the order finalized and the
   chain and key stored under `name`;
5. the TXT records are deleted in every case, success or failure.

Single order per name: while an order runs in this process, `request` for the same name
returns at once; across workers, a "pending" marker created atomically in the store decides
who orders (`create_marker` fails for the second). A marker older than `pending_timeout` is
taken to be left by a worker that died and is replaced (rare; a race between two workers
taking over the same stale marker is possible but needs a crash first).

Failures: what the CA decided (a challenge that did not validate, a refused identifier, an
order that timed out) is recorded as a "failed" marker and reported by `status` as FAILED with
the CA's reason; `request` then returns normally. Transient trouble (CA unreachable, DNS
provider errors) raises InfrastructureError so the caller's job is retried; no failure is
recorded for it. `request` waits for the order (seconds with Let's Encrypt, plus up to a
minute for Route 53 to be INSYNC): its caller's job timeout must exceed `order_timeout`.

`status`: READY while a valid certificate is stored (also while its renewal runs, or after a
renewal failed: the old one still serves, and `reason` says why the renewal failed); else
PENDING while an order runs; else FAILED with the last failure's reason (or the expiry of a
stored certificate); else ABSENT.

The acme client is synchronous (requests): its calls run in threads, each order with its own
`ClientNetwork` (their nonces and sessions are not shared between threads). The instance is
meant to live as long as the worker (APP scope), so the in-process guard and the registered
account are shared by all its jobs.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
import requests
from acme import challenges, errors, messages
from acme.client import ClientNetwork, ClientV2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from josepy.jwa import ES256
from josepy.jwk import JWK, JWKEC

from smarter.adapters.certificate_stores import CertificateStore, StoredCertificate
from smarter.application.infrastructure import (
    CertificateState,
    CertificateStatus,
    DnsRecord,
    DnsZones,
    InfrastructureError,
)

log = logging.getLogger(__name__)

PENDING, FAILED = "pending", "failed"
CHALLENGE_TTL = 60
USER_AGENT = "smarter-acme"


class _Marker(msgspec.Struct, frozen=True, kw_only=True):
    hosts: tuple[str, ...]
    at: datetime.datetime
    reason: str = ""


class _OrderFailed(Exception):
    """The CA refused or gave up: reported as FAILED, not retried at once."""


@dataclass
class _Challenges:
    """The TXT records of one order, grouped by hosted zone, and the challenges to answer."""

    records: dict[str, list[DnsRecord]] = field(default_factory=dict)
    to_answer: list[messages.ChallengeBody] = field(default_factory=list)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def normalize_hosts(hosts: Sequence[str]) -> tuple[str, ...]:
    normalized = sorted({host.strip().rstrip(".").lower() for host in hosts})
    if not normalized or not all(normalized):
        raise ValueError("a certificate needs at least one host")
    return tuple(normalized)


def certificate_hosts(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    return tuple(sorted(name.lower() for name in names.value.get_values_for_type(x509.DNSName)))


def _leaf(stored: StoredCertificate) -> x509.Certificate:
    return x509.load_pem_x509_certificates(stored.cert_pem.encode())[0]


def _new_key_and_csr(hosts: Sequence[str]) -> tuple[str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host) for host in hosts]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def _new_account_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _problem(error: messages.Error) -> str:
    return f"{error.code or error.typ}: {error.detail or error.title or ''}".strip()


def _validation_reason(error: errors.ValidationError) -> str:
    reasons = []
    for authzr in error.failed_authzrs:
        for challb in authzr.body.challenges:
            if challb.error is not None:
                reasons.append(f"{authzr.body.identifier.value}: {_problem(challb.error)}")
    return "; ".join(reasons) or "a challenge did not validate"


class AcmeCertificates:
    def __init__(
        self,
        directory_url: str,
        dns_zones: DnsZones,
        place_challenge: Callable[[str], Awaitable[tuple[str, str]]],
        store: CertificateStore,
        *,
        email: str | None = None,
        ca_bundle: str | None = None,
        wait_for_sync: bool = True,
        order_timeout: float = 150.0,
        pending_timeout: float = 600.0,
        poll_interval: float = 0.2,
        sync_poll_interval: float = 2.0,
    ) -> None:
        self._directory_url = directory_url
        self._dns_zones = dns_zones
        self._place_challenge = place_challenge
        self._store = store
        self._email = email
        # requests takes a bundle path where it takes True/False.
        self._verify: bool | str = ca_bundle or True
        self._wait_for_sync = wait_for_sync
        self._order_timeout = order_timeout
        self._pending_timeout = datetime.timedelta(seconds=pending_timeout)
        self._poll_interval = poll_interval
        # Route 53 takes tens of seconds to be INSYNC and throttles at 5 requests a second.
        self._sync_poll_interval = sync_poll_interval
        self._running: set[str] = set()
        self._account_lock = asyncio.Lock()
        self._account: tuple[JWKEC, str] | None = None  # (key, account URL)

    # --- the port ---

    async def request(self, name: str, hosts: Sequence[str], *, renew: bool = False) -> None:
        wanted = normalize_hosts(hosts)
        if name in self._running:
            return  # this process is ordering it right now
        self._running.add(name)
        try:
            if not renew and await self._holds_valid(name, wanted):
                return
            if not await self._claim(name, wanted):
                return  # another worker is ordering it
            try:
                await self._order_and_store(name, wanted)
            finally:
                await self._store.delete_marker(name, PENDING)
        finally:
            self._running.discard(name)

    async def status(self, name: str) -> CertificateStatus:
        stored = await self._store.get(name)
        failure = await self._marker(name, FAILED)
        if stored is not None:
            leaf = _leaf(stored)
            not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
            if _utcnow() < not_after:
                # A failed renewal leaves the old certificate serving: READY, with the reason.
                return CertificateStatus(
                    state=CertificateState.READY,
                    not_before=not_before,
                    not_after=not_after,
                    reason=failure.reason if failure else "",
                )
        if name in self._running or await self._fresh_pending(name) is not None:
            return CertificateStatus(state=CertificateState.PENDING)
        if failure is not None:
            return CertificateStatus(state=CertificateState.FAILED, reason=failure.reason)
        if stored is not None:
            return CertificateStatus(
                state=CertificateState.FAILED,
                not_before=not_before,
                not_after=not_after,
                reason=f"the certificate expired at {not_after.isoformat()}",
            )
        return CertificateStatus(state=CertificateState.ABSENT)

    async def delete(self, name: str) -> None:
        # An order running for `name` at this moment still stores its certificate when it
        # ends: callers delete after they stopped requesting (teardown follows undeploy).
        await self._store.delete(name)
        await self._store.delete_marker(name, FAILED)

    # --- single order per name ---

    async def _holds_valid(self, name: str, hosts: tuple[str, ...]) -> bool:
        stored = await self._store.get(name)
        if stored is None:
            return False
        leaf = _leaf(stored)
        return certificate_hosts(leaf) == hosts and _utcnow() < leaf.not_valid_after_utc

    async def _marker(self, name: str, kind: str) -> _Marker | None:
        raw = await self._store.get_marker(name, kind)
        if raw is None:
            return None
        try:
            return msgspec.json.decode(raw, type=_Marker)
        except msgspec.DecodeError:
            return None  # a marker this code did not write: as good as none

    async def _fresh_pending(self, name: str) -> _Marker | None:
        pending = await self._marker(name, PENDING)
        if pending is None or _utcnow() - pending.at > self._pending_timeout:
            return None
        return pending

    async def _claim(self, name: str, hosts: tuple[str, ...]) -> bool:
        marker = msgspec.json.encode(_Marker(hosts=hosts, at=_utcnow())).decode()
        if await self._store.create_marker(name, PENDING, marker):
            return True
        if await self._fresh_pending(name) is not None:
            return False
        log.warning("replacing the stale pending order marker of %s", name)
        await self._store.delete_marker(name, PENDING)
        return await self._store.create_marker(name, PENDING, marker)

    # --- one order ---

    async def _order_and_store(self, name: str, hosts: tuple[str, ...]) -> None:
        started = _utcnow()
        try:
            certificate = await self._order(hosts)
        except _OrderFailed as failure:
            reason = str(failure)
            log.warning("certificate %s for %s failed: %s", name, ", ".join(hosts), reason)
            marker = _Marker(hosts=hosts, at=_utcnow(), reason=reason)
            await self._store.put_marker(name, FAILED, msgspec.json.encode(marker).decode())
            return
        await self._store.put(name, certificate)
        await self._store.delete_marker(name, FAILED)
        log.info(
            "certificate %s for %s issued in %.1f s",
            name,
            ", ".join(hosts),
            (_utcnow() - started).total_seconds(),
        )

    async def _order(self, hosts: tuple[str, ...]) -> StoredCertificate:
        key, account_url = await self._account_key_and_url()
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=self._order_timeout)
        key_pem, csr_pem = _new_key_and_csr(hosts)
        client = await self._acme(key, account_url)
        orderr = await self._acme_call(client.new_order, csr_pem)
        pending = await self._challenges(orderr, key)
        try:
            await self._publish(pending, deadline)
            for challb in pending.to_answer:
                await self._acme_call(client.answer_challenge, challb, challb.chall.response(key))
            orderr = await self._poll_authorizations(client, orderr, deadline)
            chain = await self._finalize(client, orderr, deadline)
        finally:
            await self._clean_up(pending)
        return StoredCertificate(cert_pem=chain, key_pem=key_pem)

    async def _challenges(self, orderr: messages.OrderResource, key: JWK) -> _Challenges:
        values: dict[str, list[str]] = {}
        places: dict[str, tuple[str, str]] = {}  # challenge name → (zone id, name written)
        pending = _Challenges()
        for authzr in orderr.authorizations:
            if authzr.body.status == messages.STATUS_VALID:
                continue  # the CA reused an authorization it validated before
            domain = authzr.body.identifier.value  # `x` for `*.x` too
            challb = next(
                (c for c in authzr.body.challenges if isinstance(c.chall, challenges.DNS01)), None
            )
            if challb is None:
                raise _OrderFailed(f"the CA offers no dns-01 challenge for {domain}")
            record_name = challb.chall.validation_domain_name(domain).lower()
            values.setdefault(record_name, []).append(challb.chall.validation(key))
            if record_name not in places:
                places[record_name] = await self._place_challenge(record_name)
            pending.to_answer.append(challb)
        for record_name, record_values in values.items():
            zone_id, written_at = places[record_name]
            record = DnsRecord(
                name=written_at, type="TXT", values=tuple(record_values), ttl=CHALLENGE_TTL
            )
            pending.records.setdefault(zone_id, []).append(record)
        return pending

    async def _publish(self, pending: _Challenges, deadline: datetime.datetime) -> None:
        changes = [
            await self._dns_zones.upsert(zone_id, records)
            for zone_id, records in pending.records.items()
        ]
        if not self._wait_for_sync:
            return
        for change in changes:
            while not await self._dns_zones.is_in_sync(change):
                if datetime.datetime.now() > deadline:
                    raise InfrastructureError(f"DNS change {change} not in sync before deadline")
                await asyncio.sleep(self._sync_poll_interval)

    async def _clean_up(self, pending: _Challenges) -> None:
        for zone_id, records in pending.records.items():
            try:
                await self._dns_zones.delete(zone_id, records)
            except Exception:  # never hide the order's own outcome behind a cleanup error
                names = ", ".join(record.name for record in records)
                log.exception("could not delete challenge records %s in zone %s", names, zone_id)

    async def _poll_authorizations(
        self, client: ClientV2, orderr: messages.OrderResource, deadline: datetime.datetime
    ) -> messages.OrderResource:
        """Like ClientV2.poll_authorizations, with a short interval instead of its 1 s."""
        authorizations = list(orderr.authorizations)
        while True:
            for index, authzr in enumerate(authorizations):
                if authzr.body.status == messages.STATUS_PENDING:
                    authorizations[index], _ = await self._acme_call(client.poll, authzr)
            statuses = {authzr.body.status for authzr in authorizations}
            if messages.STATUS_PENDING not in statuses:
                break
            if datetime.datetime.now() > deadline:
                raise _OrderFailed("the CA did not validate the challenges in time")
            await asyncio.sleep(self._poll_interval)
        failed = [a for a in authorizations if a.body.status != messages.STATUS_VALID]
        if failed:
            raise _OrderFailed(_validation_reason(errors.ValidationError(failed)))
        return cast(messages.OrderResource, orderr.update(authorizations=authorizations))

    async def _finalize(
        self, client: ClientV2, orderr: messages.OrderResource, deadline: datetime.datetime
    ) -> str:
        """Like ClientV2.finalize_order, without its fixed 1 s sleep before the first poll."""
        orderr = await self._acme_call(client.begin_finalization, orderr)
        while True:
            body = orderr.body
            if body.status == messages.STATUS_VALID and body.certificate is not None:
                answer = await self._acme_call(self._post_as_get, client, body.certificate)
                return str(answer.text)
            if body.status == messages.STATUS_INVALID:
                reason = _problem(body.error) if body.error is not None else "no reason given"
                raise _OrderFailed(f"the CA refused to issue: {reason}")
            if datetime.datetime.now() > deadline:
                raise _OrderFailed("the CA did not issue the certificate in time")
            await asyncio.sleep(self._poll_interval)
            answer = await self._acme_call(self._post_as_get, client, orderr.uri)
            orderr = orderr.update(body=messages.Order.from_json(answer.json()))

    @staticmethod
    def _post_as_get(client: ClientV2, url: str) -> requests.Response:
        return client.net.post(url, None, new_nonce_url=client.directory["newNonce"])

    # --- the acme client ---

    async def _account_key_and_url(self) -> tuple[JWKEC, str]:
        async with self._account_lock:
            if self._account is None:
                key_pem = await self._store.ensure_account_key(_new_account_key_pem())
                private = serialization.load_pem_private_key(key_pem.encode(), password=None)
                key = JWKEC(key=private)
                url = await self._acme_call(self._register, key)
                self._account = (key, url)
            return self._account

    def _network(self, key: JWK, account_url: str | None) -> ClientNetwork:
        account = (
            messages.RegistrationResource(uri=account_url, body=messages.Registration())
            if account_url
            else None
        )
        return ClientNetwork(
            key,
            account=account,
            alg=ES256,
            verify_ssl=cast(bool, self._verify),  # requests accepts a bundle path here
            user_agent=USER_AGENT,
        )

    def _register(self, key: JWK) -> str:
        net = self._network(key, None)
        client = ClientV2(ClientV2.get_directory(self._directory_url, net), net)
        registration = messages.NewRegistration.from_data(
            email=self._email, terms_of_service_agreed=True
        )
        try:
            return str(client.new_account(registration).uri)
        except errors.ConflictError as existing:  # this key has an account already
            return str(existing.location)

    async def _acme(self, key: JWK, account_url: str) -> ClientV2:
        def connect() -> ClientV2:
            net = self._network(key, account_url)
            return ClientV2(ClientV2.get_directory(self._directory_url, net), net)

        client: ClientV2 = await self._acme_call(connect)
        return client

    async def _acme_call(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run one blocking acme call in a thread; sort its errors into ours."""
        try:
            return await asyncio.to_thread(call, *args)
        except requests.RequestException as error:
            raise InfrastructureError(f"ACME server unreachable: {error}") from error
        except messages.Error as error:
            if error.code == "accountDoesNotExist":
                self._account = None  # the CA forgot us (pebble restarted): register again
                raise InfrastructureError(f"ACME account unknown: {_problem(error)}") from error
            if error.code in ("serverInternal", "badNonce"):
                raise InfrastructureError(f"ACME server error: {_problem(error)}") from error
            raise _OrderFailed(_problem(error)) from error
        except errors.ValidationError as error:
            raise _OrderFailed(_validation_reason(error)) from error
        except errors.TimeoutError as error:
            raise _OrderFailed("the order was not finalized in time") from error
        except errors.IssuanceError as error:
            raise _OrderFailed(f"issuance failed: {_problem(error.error)}") from error
        except errors.Error as error:
            raise _OrderFailed(f"ACME error: {error}") from error
