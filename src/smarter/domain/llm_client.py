"""The LLMClient: a customer's chat client, its hosts and URLs, and its deployment state.

The fields and the URL properties are those of the original platform's LLMClient model;
its documented examples are test vectors in tests/unit/domain/test_llm_client.py.
"""

from __future__ import annotations

import copy
import enum
import functools
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import msgspec

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain
from smarter.domain.environments import Platform
from smarter.domain.errors import InvalidValue
from smarter.domain.hashed_id import encode_hashed_id
from smarter.domain.host_router import HostKind, HostRouter
from smarter.domain.hostnames import MAX_LABEL_LENGTH
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusEvent,
    StatusField,
    TlsCertificateIssuanceStatus,
    dns_transition,
    tls_transition,
)
from smarter.domain.validators import validate_client_name, validate_semver, validate_url

_NOT_IN_LABEL = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
_URL_FIELDS = ("app_info_url", "app_background_image_url", "app_logo_url")
_PROVIDER = re.compile(r"[a-z][a-z0-9_-]{0,63}")
MAX_TOKENS_LIMIT = 1_000_000


class ClientMode(enum.StrEnum):
    SANDBOX = "sandbox"
    DEFAULT = "default"
    CUSTOM = "custom"
    UNKNOWN = "unknown"


def dns_label(raw: str, field: str = "name") -> str:
    """One RFC 1034 label from a name: lower case, `[a-z0-9-]`, hyphens tidied, 63 at most."""
    label = _NOT_IN_LABEL.sub("-", raw.lower().replace("_", "-"))
    label = _HYPHENS.sub("-", label).strip("-")[:MAX_LABEL_LENGTH].rstrip("-")
    if not label:
        raise InvalidValue(field, f"'{raw}' has no letters or digits to make a host name from")
    return label


@functools.lru_cache(maxsize=16)
def router_for(platform: Platform) -> HostRouter:
    return HostRouter(platform)


class LLMClientSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the customer sets: the name, the model settings and the UI settings.

    It is the body of create and patch requests and of a manifest, and the part of a stored
    client that the customer owns; everything else on LLMClient is identity or state.
    """

    name: str
    description: str = ""
    version: str = "1.0.0"
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    tags: list[str] = msgspec.field(default_factory=list)
    provider: str = "openai"
    default_model: str = "gpt-4o-mini"
    default_system_role: str = "You are a helpful assistant."
    default_temperature: float = 0.7
    default_max_tokens: int = 1024
    app_name: str = ""
    app_assistant: str = ""
    app_welcome_message: str = ""
    app_example_prompts: list[str] = msgspec.field(default_factory=list)
    app_placeholder: str = ""
    app_info_url: str | None = None
    app_background_image_url: str | None = None
    app_logo_url: str | None = None
    app_file_attachment: bool = False
    functions: list[str] = msgspec.field(default_factory=list)
    cors_origins: list[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        validate_client_name(self.name)
        validate_semver(self.version)
        dns_label(self.name)
        for field in _URL_FIELDS:
            value = getattr(self, field)
            if value is not None:
                validate_url(value, field)
        for origin in self.cors_origins:
            validate_url(origin, "cors_origins")
        if not _PROVIDER.fullmatch(self.provider):
            raise InvalidValue("provider", f"'{self.provider}' is not a provider name")
        if not self.default_model.strip():
            raise InvalidValue("default_model", "must not be empty")
        if not 0.0 <= self.default_temperature <= 2.0:
            raise InvalidValue("default_temperature", "must be between 0.0 and 2.0")
        if not 1 <= self.default_max_tokens <= MAX_TOKENS_LIMIT:
            raise InvalidValue("default_max_tokens", f"must be between 1 and {MAX_TOKENS_LIMIT}")
        if any(not tag.strip() or len(tag) > 64 for tag in self.tags):
            raise InvalidValue("tags", "each tag is 1 to 64 characters")

    @property
    def spec(self) -> LLMClientSpec:
        """Just the customer's settings, e.g. to store them or to clone them."""
        names = msgspec.structs.fields(LLMClientSpec)
        return LLMClientSpec(**{f.name: copy.deepcopy(getattr(self, f.name)) for f in names})


class LLMClient(LLMClientSpec, kw_only=True):
    platform: Platform
    account_number: AccountNumber
    owner_username: str
    owner_is_admin: bool
    id: int | None = None
    owner_id: int | None = None
    deployed: bool = False
    dns_verification_status: DnsVerificationStatus = DnsVerificationStatus.NOT_VERIFIED
    tls_certificate_issuance_status: TlsCertificateIssuanceStatus = (
        TlsCertificateIssuanceStatus.NO_CERTIFICATE
    )
    custom_domain: CustomDomain | None = None
    active_api_keys: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Set when a client that holds provisioned hosts is deleted: hidden at once, its row goes
    # after the worker tore everything down.
    deletion_requested_at: datetime | None = None
    # Status changes made since the client was loaded; the repository stores and clears them.
    events: list[StatusEvent] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()
        self.rfc1034_compliant_name  # noqa: B018 - raises when no host name can be made

    def with_spec(self, spec: LLMClientSpec) -> LLMClient:
        """This client with the customer's settings replaced (validated again)."""
        return msgspec.structs.replace(self, **msgspec.structs.asdict(spec))

    # -- names and hosts ------------------------------------------------------------------

    @property
    def hashed_id(self) -> str | None:
        return None if self.id is None else encode_hashed_id(self.id)

    @property
    def rfc1034_compliant_name(self) -> str:
        """`example` for the account admin's client, `example.user123` for anyone else's."""
        if self.owner_is_admin:
            return dns_label(self.name)
        return f"{dns_label(self.name)}.{dns_label(self.owner_username, 'owner_username')}"

    @property
    def base_api_domain(self) -> str:
        return self.platform.base_api_domain

    @property
    def base_default_host(self) -> str:
        return f".{self.account_number}.{self.base_api_domain}"

    @property
    def default_host(self) -> str:
        return self.rfc1034_compliant_name + self.base_default_host

    @property
    def default_url(self) -> str:
        return f"{self.platform.scheme}://{self.default_host}"

    @property
    def custom_host(self) -> str | None:
        if self.custom_domain is None:
            return None
        return f"{self.rfc1034_compliant_name}.{self.custom_domain.domain_name}"

    @property
    def custom_url(self) -> str | None:
        host = self.custom_host
        return None if host is None else f"{self.platform.scheme}://{host}"

    @property
    def sandbox_host(self) -> str:
        return self.platform.console_domain

    @property
    def sandbox_url(self) -> str:
        return f"{self._console_url}/workbench/llm-clients/{self.hashed_id}/"

    @property
    def manifest_url(self) -> str:
        return f"{self.sandbox_url}manifest/"

    @property
    def url_chat_config(self) -> str:
        return f"{self._console_url}/api/v1/llm-clients/{self.id}/config/"

    @property
    def url_llm_client(self) -> str:
        return f"{self._console_url}/api/v1/llm-clients/{self.id}/prompt/"

    @property
    def _console_url(self) -> str:
        return f"{self.platform.scheme}://{self.platform.console_domain}"

    @property
    def _serves_custom_host(self) -> bool:
        return self.deployed and self.custom_domain is not None and self.custom_domain.is_verified

    @property
    def hostname(self) -> str:
        """Custom host if deployed on a verified domain, else default if deployed, else sandbox."""
        if self._serves_custom_host:
            return self.custom_host or ""
        return self.default_host if self.deployed else self.sandbox_host

    @property
    def url(self) -> str:
        if self._serves_custom_host:
            return self.custom_url or ""
        return self.default_url if self.deployed else self.sandbox_url

    def mode(self, url: str) -> ClientMode:
        """Which of this client's faces `url` addresses. Never raises."""
        try:
            parts = urlsplit(url)
            netloc = parts.netloc.rpartition("@")[2]
        except ValueError:
            return ClientMode.UNKNOWN
        if not netloc:
            return ClientMode.UNKNOWN
        host = router_for(self.platform).resolve(netloc)
        if host.environment not in (None, self.platform.environment):
            return ClientMode.UNKNOWN
        if host.kind is HostKind.CONSOLE:
            return ClientMode.SANDBOX
        if host.kind is HostKind.API:
            own_api_path = f"/api/v1/llm-clients/{self.id}/"
            is_own = self.id is not None and parts.path.startswith(own_api_path)
            return ClientMode.SANDBOX if is_own else ClientMode.UNKNOWN
        if host.kind is HostKind.CLIENT and (
            host.account_number == self.account_number
            and host.llm_client_name == self.rfc1034_compliant_name
        ):
            return ClientMode.DEFAULT
        if host.kind is HostKind.CUSTOM_DOMAIN and host.host.split(":")[0] == self.custom_host:
            return ClientMode.CUSTOM
        return ClientMode.UNKNOWN

    # -- readiness, authentication, prompt ------------------------------------------------

    @property
    def is_provisioned(self) -> bool:
        """Deployed, with its host verified and its certificate issued: it may serve chat."""
        return (
            self.deployed
            and self.dns_verification_status is DnsVerificationStatus.VERIFIED
            and self.tls_certificate_issuance_status is TlsCertificateIssuanceStatus.ISSUED
        )

    @property
    def ready(self) -> bool:
        """Ready in sandbox mode, or when deployed, verified and certified."""
        return self.mode(self.url) is ClientMode.SANDBOX or self.is_provisioned

    @property
    def is_authentication_required(self) -> bool:
        return self.active_api_keys > 0

    @property
    def default_system_role_enhanced(self) -> str:
        return self.system_role_at(datetime.now(UTC))

    def system_role_at(self, now: datetime) -> str:
        """The system role behind a time stamp, e.g.
        `2024-06-01 12:00:00 System: You are a helpful assistant.`"""
        return f"{now:%Y-%m-%d %H:%M:%S} System: {self.default_system_role}"

    # -- desired and observed state -------------------------------------------------------

    def request_deployment(self, at: datetime, reason: str = "deploy requested") -> bool:
        """Record the wish to be deployed; False when it already was."""
        return self._set_deployed(True, at, reason)

    def request_undeployment(self, at: datetime, reason: str = "undeploy requested") -> bool:
        return self._set_deployed(False, at, reason)

    def _set_deployed(self, deployed: bool, at: datetime, reason: str) -> bool:
        if self.deployed is deployed:
            return False
        self.events.append(
            StatusEvent(
                at=at,
                field=StatusField.DEPLOYED,
                from_status=str(self.deployed).lower(),
                to_status=str(deployed).lower(),
                reason=reason,
            )
        )
        self.deployed = deployed
        return True

    def request_deletion(self, at: datetime) -> None:
        """Stop serving now (undeployed); the worker tears down, then deletes the row."""
        self.request_undeployment(at, "delete requested")
        self.deletion_requested_at = self.deletion_requested_at or at

    def move_dns(self, target: DnsVerificationStatus, reason: str, at: datetime) -> None:
        self.events.append(dns_transition(self.dns_verification_status, target, reason, at))
        self.dns_verification_status = target

    def move_tls(self, target: TlsCertificateIssuanceStatus, reason: str, at: datetime) -> None:
        self.events.append(tls_transition(self.tls_certificate_issuance_status, target, reason, at))
        self.tls_certificate_issuance_status = target

    def note(
        self, field: StatusField, from_status: str, to_status: str, reason: str, at: datetime
    ) -> None:
        """An event of the timeline outside the status tables (a custom host, a repair)."""
        self.events.append(
            StatusEvent(
                at=at, field=field, from_status=from_status, to_status=to_status, reason=reason
            )
        )

    def settle_dns(
        self, status: DnsVerificationStatus, reason: str, at: datetime, *, serving: bool = False
    ) -> None:
        """Move to `status`, through `Verifying` where the table demands it (a host is always
        checked first). A client `serving` on its default host stays `Verified` while a
        further host verifies: adding a host must not take it down."""
        current = self.dns_verification_status
        waiting = status is DnsVerificationStatus.VERIFYING
        if current is status or (waiting and serving):
            return
        if not waiting and current is not DnsVerificationStatus.VERIFYING:
            self.move_dns(DnsVerificationStatus.VERIFYING, "records written", at)
        self.move_dns(status, reason, at)

    def settle_tls(
        self,
        status: TlsCertificateIssuanceStatus,
        reason: str,
        at: datetime,
        *,
        serving: bool = False,
    ) -> None:
        """Move to `status`, through `Requested` where the table demands it; a client
        `serving` stays `Issued` while a further certificate is ordered."""
        current = self.tls_certificate_issuance_status
        waiting = status is TlsCertificateIssuanceStatus.REQUESTED
        if current is status or (waiting and serving):
            return
        if not waiting and current is not TlsCertificateIssuanceStatus.REQUESTED:
            self.move_tls(TlsCertificateIssuanceStatus.REQUESTED, "certificate ordered", at)
        self.move_tls(status, reason, at)

    def reset_statuses(self, reason: str, at: datetime) -> None:
        """Back to `Not Verified` / `No Certificate` after a teardown."""
        if self.dns_verification_status is not DnsVerificationStatus.NOT_VERIFIED:
            self.move_dns(DnsVerificationStatus.NOT_VERIFIED, reason, at)
        if self.tls_certificate_issuance_status is not TlsCertificateIssuanceStatus.NO_CERTIFICATE:
            self.move_tls(TlsCertificateIssuanceStatus.NO_CERTIFICATE, reason, at)

    def clone(
        self,
        new_name: str | None = None,
        new_version: str | None = None,
        owner: tuple[int | None, str, bool] | None = None,
    ) -> LLMClient:
        """Same configuration under a new name (default `<name>-copy`), not deployed."""
        owner_id, username, is_admin = owner or (
            self.owner_id,
            self.owner_username,
            self.owner_is_admin,
        )
        return msgspec.structs.replace(
            self,
            id=None,
            name=new_name or f"{self.name}-copy",
            version=new_version or self.version,
            owner_id=owner_id,
            owner_username=username,
            owner_is_admin=is_admin,
            annotations=dict(self.annotations),
            tags=list(self.tags),
            app_example_prompts=list(self.app_example_prompts),
            functions=list(self.functions),
            cors_origins=list(self.cors_origins),
            deployed=False,
            dns_verification_status=DnsVerificationStatus.NOT_VERIFIED,
            tls_certificate_issuance_status=TlsCertificateIssuanceStatus.NO_CERTIFICATE,
            active_api_keys=0,
            created_at=None,
            updated_at=None,
            events=[],
            deletion_requested_at=None,
        )
