"""The LLMClient: its names, hosts and URLs (the original platform's examples are test vectors),
its validation, its readiness and its deployment state."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smarter.domain.account_number import AccountNumber
from smarter.domain.custom_domain import CustomDomain, VerificationReport
from smarter.domain.environments import Environment, Platform
from smarter.domain.errors import IllegalTransition, InvalidValue
from smarter.domain.host_router import HostKind, HostRouter
from smarter.domain.llm_client import ClientMode, LLMClient, LLMClientSpec, dns_label, router_for
from smarter.domain.status import (
    DnsVerificationStatus,
    StatusEvent,
    StatusField,
    TlsCertificateIssuanceStatus,
)

DNS = DnsVerificationStatus
TLS = TlsCertificateIssuanceStatus
ACCOUNT = AccountNumber("1234-5678-9012")
OTHER_ACCOUNT = AccountNumber("3141-5926-5359")
AT = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)

LOCAL = Platform(environment=Environment.LOCAL)
ALPHA = Platform(environment=Environment.ALPHA)
PROD = Platform(environment=Environment.PROD)
# The original platform's sandbox examples live under smarter.sh; there example.com is a
# customer's domain.
SMARTER_ALPHA = Platform(root_domain="smarter.sh", environment=Environment.ALPHA)


def make_client(platform: Platform = ALPHA, **overrides: Any) -> LLMClient:
    fields: dict[str, Any] = {
        "platform": platform,
        "account_number": ACCOUNT,
        "owner_username": "adminuser",
        "owner_is_admin": True,
        "name": "example",
        "id": 6,
    }
    fields.update(overrides)
    return LLMClient(**fields)


def verified_domain(name: str = "example.com") -> CustomDomain:
    domain = CustomDomain(domain_name=name, account_number=ACCOUNT)
    domain.mark_verified(VerificationReport(checked_at=AT))
    return domain


def unverified_domain(name: str = "example.com") -> CustomDomain:
    return CustomDomain(domain_name=name, account_number=ACCOUNT)


# -- the original platform's examples, literally -----------------------------------------------


def test_base_api_domain_is_the_environment_api_domain() -> None:
    assert make_client(ALPHA).base_api_domain == "alpha.api.example.com"


def test_base_api_domain_in_local_is_the_dns_shaped_stand_in() -> None:
    assert make_client(LOCAL).base_api_domain == "api.local.example.com"


def test_base_default_host_is_the_account_number_under_the_base_api_domain() -> None:
    assert make_client(ALPHA).base_default_host == ".1234-5678-9012.alpha.api.example.com"
    assert make_client(LOCAL).base_default_host == ".1234-5678-9012.api.local.example.com"


def test_default_host_is_the_name_in_front_of_the_base_default_host() -> None:
    assert make_client(ALPHA).default_host == "example.1234-5678-9012.alpha.api.example.com"
    assert make_client(LOCAL).default_host == "example.1234-5678-9012.api.local.example.com"


def test_default_url_has_the_environment_scheme_and_no_trailing_slash() -> None:
    assert make_client(ALPHA).default_url == "https://example.1234-5678-9012.alpha.api.example.com"
    assert make_client(LOCAL).default_url == "http://example.1234-5678-9012.api.local.example.com"
    assert make_client(PROD).default_url == "https://example.1234-5678-9012.api.example.com"


def test_custom_host_and_url_are_the_name_under_the_custom_domain() -> None:
    client = make_client(ALPHA, custom_domain=unverified_domain("example.com"))
    assert client.custom_host == "example.example.com"
    assert client.custom_url == "https://example.example.com"


def test_without_a_custom_domain_there_is_no_custom_host_or_url() -> None:
    client = make_client(ALPHA)
    assert client.custom_host is None
    assert client.custom_url is None


def test_sandbox_host_is_the_console_domain_of_the_environment() -> None:
    assert make_client(SMARTER_ALPHA).sandbox_host == "alpha.platform.smarter.sh"
    assert make_client(LOCAL).sandbox_host == "localhost:9357"
    assert make_client(PROD).sandbox_host == "platform.example.com"


def test_sandbox_url_is_the_workbench_page_of_the_hashed_id() -> None:
    client = make_client(SMARTER_ALPHA, id=6)
    assert client.hashed_id == "rMTAwMDAwNgx"
    assert (
        client.sandbox_url
        == "https://alpha.platform.smarter.sh/workbench/llm-clients/rMTAwMDAwNgx/"
    )


def test_manifest_url_is_the_sandbox_url_and_manifest() -> None:
    client = make_client(SMARTER_ALPHA, id=6)
    assert client.manifest_url == (
        "https://alpha.platform.smarter.sh/workbench/llm-clients/rMTAwMDAwNgx/manifest/"
    )


def test_url_chat_config_and_url_llm_client_are_console_api_paths_of_the_id() -> None:
    client = make_client(LOCAL, id=5174)
    assert client.url_chat_config == "http://localhost:9357/api/v1/llm-clients/5174/config/"
    assert client.url_llm_client == "http://localhost:9357/api/v1/llm-clients/5174/prompt/"


def test_a_client_without_an_id_has_no_hashed_id() -> None:
    assert make_client(id=None).hashed_id is None


def test_a_client_owned_by_the_account_admin_gets_its_own_name_as_label() -> None:
    assert make_client(owner_username="adminuser", owner_is_admin=True).rfc1034_compliant_name == (
        "example"
    )


def test_a_client_owned_by_a_non_admin_gets_the_username_label() -> None:
    client = make_client(owner_username="user123", owner_is_admin=False)
    assert client.rfc1034_compliant_name == "example.user123"
    assert client.default_host == "example.user123.1234-5678-9012.alpha.api.example.com"


def test_the_enhanced_system_role_is_prefixed_with_the_date_and_time() -> None:
    client = make_client()
    assert client.system_role_at(datetime(2024, 6, 1, 12, 0, 0)) == (
        "2024-06-01 12:00:00 System: You are a helpful assistant."
    )


def test_the_enhanced_system_role_uses_the_current_time() -> None:
    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    enhanced = make_client(default_system_role="Be brief.").default_system_role_enhanced
    after = datetime.now(UTC).replace(tzinfo=None)
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) System: Be brief\.", enhanced)
    assert match is not None
    stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
    assert before <= stamp <= after + timedelta(seconds=1)


# -- default hosts resolve back to their client ------------------------------------------------


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize(("username", "is_admin"), [("adminuser", True), ("user123", False)])
def test_the_router_reads_every_default_host_back_to_its_account_and_name(
    environment: Environment, username: str, is_admin: bool
) -> None:
    client = make_client(
        Platform(environment=environment), owner_username=username, owner_is_admin=is_admin
    )
    resolved = HostRouter(client.platform).resolve(client.default_host)
    assert resolved.kind is HostKind.CLIENT
    assert resolved.environment is environment
    assert resolved.account_number == client.account_number
    assert resolved.llm_client_name == client.rfc1034_compliant_name


# -- rfc1034_compliant_name -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("example", "example"),
        ("apiKey", "apikey"),
        ("my_bot", "my-bot"),
        ("My__Bot", "my-bot"),
        ("a--b", "a-b"),
        ("a_-_b", "a-b"),
        ("bot-", "bot"),
        ("bot_", "bot"),
        ("_bot_", "bot"),
        ("--bot--", "bot"),
        ("user@example.com", "user-example-com"),
        ("john.doe", "john-doe"),
        ("Jöhn Doe", "j-hn-doe"),
        ("a" * 63, "a" * 63),
        ("a" * 128, "a" * 63),
        # Truncation at 63 never leaves a trailing hyphen.
        ("a" * 62 + "_b", "a" * 62),
        ("a" * 62 + "--b", "a" * 62),
        ("a" * 61 + "_bc", "a" * 61 + "-b"),
    ],
)
def test_a_dns_label_is_lower_case_alphanumeric_with_tidy_hyphens_and_at_most_63(
    raw: str, label: str
) -> None:
    assert dns_label(raw) == label
    assert len(label) <= 63
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", label)
    assert "--" not in label


@pytest.mark.parametrize("raw", ["", "_", "---", "!!!", "ü", "__--__"])
def test_a_name_without_letters_or_digits_gives_no_label(raw: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        dns_label(raw, "owner_username")
    assert caught.value.field == "owner_username"


def test_the_username_label_follows_the_same_rules() -> None:
    client = make_client(name="My_Bot", owner_username="_John.Doe_", owner_is_admin=False)
    assert client.rfc1034_compliant_name == "my-bot.john-doe"


def test_a_non_admin_owner_whose_username_makes_no_label_is_rejected() -> None:
    with pytest.raises(InvalidValue) as caught:
        make_client(owner_username="___", owner_is_admin=False)
    assert caught.value.field == "owner_username"


def test_an_admin_owner_needs_no_username_label() -> None:
    assert make_client(owner_username="___", owner_is_admin=True).default_host.startswith(
        "example."
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("apiKey", "ApiKey"), ("my_bot", "my-bot"), ("My_Bot", "my--bot"), ("a" * 63, "a" * 64)],
)
def test_two_names_that_map_to_the_same_label_share_a_default_host(first: str, second: str) -> None:
    one, two = make_client(name=first), make_client(name=second)
    assert one.name != two.name
    assert one.default_host == two.default_host


# -- hostname and url ---------------------------------------------------------------------------


def test_an_undeployed_client_is_reached_on_the_sandbox() -> None:
    client = make_client(SMARTER_ALPHA, deployed=False, custom_domain=verified_domain())
    assert client.hostname == "alpha.platform.smarter.sh"
    assert client.url == client.sandbox_url


def test_a_deployed_client_is_reached_on_its_default_host() -> None:
    client = make_client(deployed=True)
    assert client.hostname == "example.1234-5678-9012.alpha.api.example.com"
    assert client.url == "https://example.1234-5678-9012.alpha.api.example.com"


def test_a_deployed_client_on_a_verified_custom_domain_is_reached_on_its_custom_host() -> None:
    client = make_client(SMARTER_ALPHA, deployed=True, custom_domain=verified_domain())
    assert client.hostname == "example.example.com"
    assert client.url == "https://example.example.com"


def test_a_deployed_client_on_an_unverified_custom_domain_is_reached_on_its_default_host() -> None:
    client = make_client(SMARTER_ALPHA, deployed=True, custom_domain=unverified_domain())
    assert client.hostname == "example.1234-5678-9012.alpha.api.smarter.sh"
    assert client.url == "https://example.1234-5678-9012.alpha.api.smarter.sh"


# -- mode(url) ----------------------------------------------------------------------------------


def custom_client(**overrides: Any) -> LLMClient:
    return make_client(SMARTER_ALPHA, custom_domain=verified_domain("example.com"), **overrides)


@pytest.mark.parametrize(
    "url",
    [
        "https://alpha.platform.smarter.sh/workbench/llm-clients/rMTAwMDAwNgx/",
        "https://alpha.platform.smarter.sh/workbench/llm-clients/rMTAwMDAwNgx/manifest/",
        "https://alpha.platform.smarter.sh/",
        "https://alpha.platform.smarter.sh",
        "https://ALPHA.Platform.smarter.sh./anything?x=1#y",
        "https://alpha.platform.smarter.sh/api/v1/llm-clients/6/config/",
        "https://alpha.api.smarter.sh/api/v1/llm-clients/6/prompt/",
        "https://alpha.api.smarter.sh/api/v1/llm-clients/6/config/",
        "https://user@alpha.platform.smarter.sh/",
    ],
)
def test_the_console_host_and_the_client_api_paths_are_the_sandbox(url: str) -> None:
    assert custom_client().mode(url) is ClientMode.SANDBOX


@pytest.mark.parametrize(
    "url",
    [
        "https://example.1234-5678-9012.alpha.api.smarter.sh",
        "https://example.1234-5678-9012.alpha.api.smarter.sh/",
        "https://example.1234-5678-9012.alpha.api.smarter.sh/chat?x=1",
        "https://EXAMPLE.1234-5678-9012.ALPHA.API.SMARTER.SH.:443/",
    ],
)
def test_the_default_host_is_the_default_mode(url: str) -> None:
    assert custom_client().mode(url) is ClientMode.DEFAULT


@pytest.mark.parametrize(
    "url",
    [
        "https://example.example.com",
        "https://example.example.com/",
        "https://Example.Example.COM:443/chat",
        "http://example.example.com./",
    ],
)
def test_the_custom_host_is_the_custom_mode(url: str) -> None:
    assert custom_client().mode(url) is ClientMode.CUSTOM


@pytest.mark.parametrize(
    "url",
    [
        # Another client's faces.
        "https://other.1234-5678-9012.alpha.api.smarter.sh",
        "https://example.3141-5926-5359.alpha.api.smarter.sh",
        "https://example.user123.1234-5678-9012.alpha.api.smarter.sh",
        "https://other.example.com",
        "https://example.example.org",
        "https://alpha.api.smarter.sh/api/v1/llm-clients/7/prompt/",
        "https://alpha.api.smarter.sh/api/v1/llm-clients/66/prompt/",
        "https://alpha.api.smarter.sh/",
        # Other environments' hosts.
        "https://beta.platform.smarter.sh/",
        "https://platform.smarter.sh/",
        "http://localhost:9357/",
        "https://example.1234-5678-9012.api.smarter.sh",
        "https://example.1234-5678-9012.beta.api.smarter.sh",
        # Hosts that are nothing.
        "https://www.smarter.sh/",
        "https://1.2.3.4/",
        "https://example.com/",
    ],
)
def test_any_other_host_is_unknown(url: str) -> None:
    assert custom_client().mode(url) is ClientMode.UNKNOWN


def test_without_an_id_no_api_path_is_the_sandbox() -> None:
    client = make_client(SMARTER_ALPHA, id=None)
    assert client.mode("https://alpha.api.smarter.sh/api/v1/llm-clients/None/prompt/") is (
        ClientMode.UNKNOWN
    )


def test_without_a_custom_domain_no_host_is_the_custom_mode() -> None:
    assert make_client(SMARTER_ALPHA).mode("https://example.example.com/") is ClientMode.UNKNOWN


@pytest.mark.parametrize(
    "url",
    [
        "",
        " ",
        "not a url",
        "example.1234-5678-9012.alpha.api.smarter.sh",
        "/api/v1/llm-clients/6/prompt/",
        "http://",
        "https://",
        "://",
        "http://[::1",
        "http://[::1]/",
        "http://a:99999/",
        "http://alpha.platform.smarter.sh:" + "9" * 5000 + "/",
        "http://" + "a" * 10_000,
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "https://user:pw@",
        "https://@",
        "http://exa mple.com/",
        "https://bücher.de/",
        "https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.example.com/",  # full-width
        "\x00",
        "\udcff",
        "http://\r\n/",
        "https://%00/",
        "https://.../",
    ],
)
def test_garbage_urls_are_unknown_and_never_raise(url: str) -> None:
    assert custom_client().mode(url) is ClientMode.UNKNOWN


def test_the_local_client_hosts_are_the_default_mode_in_local() -> None:
    client = make_client(LOCAL)
    assert client.mode("http://example.1234-5678-9012.api.local.example.com/") is (
        ClientMode.DEFAULT
    )
    assert client.mode("http://example.1234-5678-9012.api.localhost:9357/") is ClientMode.DEFAULT
    assert client.mode("http://localhost:9357/") is ClientMode.SANDBOX
    assert client.mode("http://127.0.0.1:9357/workbench/") is ClientMode.SANDBOX
    assert client.mode("http://localhost:8000/") is ClientMode.UNKNOWN


def test_each_platform_gets_one_shared_router() -> None:
    assert router_for(ALPHA) is router_for(Platform(environment=Environment.ALPHA))
    assert router_for(ALPHA) is not router_for(PROD)


# -- ready and authentication -----------------------------------------------------------------


def test_an_undeployed_client_is_ready_in_sandbox_mode() -> None:
    assert make_client(deployed=False).ready is True
    assert make_client(PROD, deployed=False, id=None).ready is True


@pytest.mark.parametrize(
    ("dns", "tls"),
    [
        (DNS.NOT_VERIFIED, TLS.NO_CERTIFICATE),
        (DNS.VERIFYING, TLS.NO_CERTIFICATE),
        (DNS.VERIFIED, TLS.NO_CERTIFICATE),
        (DNS.VERIFIED, TLS.REQUESTED),
        (DNS.VERIFIED, TLS.FAILED),
        (DNS.FAILED, TLS.ISSUED),
        (DNS.VERIFYING, TLS.ISSUED),
    ],
)
def test_a_deployed_client_is_not_ready_until_verified_and_certified(
    dns: DnsVerificationStatus, tls: TlsCertificateIssuanceStatus
) -> None:
    client = make_client(deployed=True, dns_verification_status=dns)
    client.tls_certificate_issuance_status = tls
    assert client.ready is False
    assert client.is_provisioned is False


def test_a_deployed_verified_and_certified_client_is_ready() -> None:
    client = make_client(
        deployed=True,
        dns_verification_status=DNS.VERIFIED,
        tls_certificate_issuance_status=TLS.ISSUED,
    )
    assert client.is_provisioned is True
    assert client.ready is True


def test_a_client_served_on_its_custom_host_is_ready_when_verified_and_certified() -> None:
    client = custom_client(deployed=True)
    assert client.ready is False
    client.dns_verification_status = DNS.VERIFIED
    client.tls_certificate_issuance_status = TLS.ISSUED
    assert client.ready is True


def test_an_undeployed_client_is_not_provisioned_whatever_its_statuses() -> None:
    client = make_client(
        deployed=False,
        dns_verification_status=DNS.VERIFIED,
        tls_certificate_issuance_status=TLS.ISSUED,
    )
    assert client.is_provisioned is False


@pytest.mark.parametrize(("active_keys", "required"), [(0, False), (1, True), (5, True)])
def test_authentication_is_required_when_the_client_has_an_active_api_key(
    active_keys: int, required: bool
) -> None:
    assert make_client(active_api_keys=active_keys).is_authentication_required is required


# -- validation -------------------------------------------------------------------------------

INVALID_FIELDS = [
    ("name", ""),
    ("name", "9lives"),
    ("name", "my bot"),
    ("name", "my.bot"),
    ("name", "naïve"),
    ("name", "a" * 129),
    ("version", ""),
    ("version", "1.0"),
    ("version", "v1.0.0"),
    ("version", "01.0.0"),
    ("app_info_url", "smarter.sh"),
    ("app_info_url", "ftp://smarter.sh"),
    ("app_background_image_url", "https://"),
    ("app_logo_url", "https://exa mple.com/logo.png"),
    ("provider", ""),
    ("provider", "OpenAI"),
    ("provider", "1ai"),
    ("provider", "open ai"),
    ("provider", "a" * 65),
    ("default_model", ""),
    ("default_model", "   "),
    ("default_temperature", -0.1),
    ("default_temperature", 2.01),
    ("default_temperature", math.nan),
    ("default_temperature", math.inf),
    ("default_max_tokens", 0),
    ("default_max_tokens", -1),
    ("default_max_tokens", 1_000_001),
    ("tags", [""]),
    ("tags", ["ok", "   "]),
    ("tags", ["x" * 65]),
    ("cors_origins", ["*"]),
    ("cors_origins", ["https://ok.example.com", "not an origin"]),
]


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS)
def test_an_invalid_field_raises_an_invalid_value_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidValue) as caught:
        make_client(**{field: value})
    assert caught.value.field == field


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS)
def test_a_spec_with_an_invalid_field_raises_an_invalid_value_naming_the_field(
    field: str, value: Any
) -> None:
    fields: dict[str, Any] = {"name": "example", field: value}
    with pytest.raises(InvalidValue) as caught:
        LLMClientSpec(**fields)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("default_temperature", 0.0),
        ("default_temperature", 2.0),
        ("default_max_tokens", 1),
        ("default_max_tokens", 1_000_000),
        ("tags", ["x" * 64, "support", "a b"]),
        ("provider", "echo"),
        ("provider", "azure_openai-v2"),
        ("provider", "a" * 64),
        ("version", "2.0.0-rc.1+build.5"),
        ("app_info_url", "https://smarter.sh"),
        ("app_background_image_url", "https://cdn.smarter.sh/prompt-ui/background.png"),
        ("app_logo_url", "https://cdn.smarter.sh/prompt-ui/logo.png"),
        ("cors_origins", ["https://shop.example.org", "http://localhost:3000"]),
        ("name", "a" * 128),
    ],
)
def test_values_at_the_edges_of_the_rules_are_accepted(field: str, value: Any) -> None:
    assert getattr(make_client(**{field: value}), field) == value


def test_the_original_platforms_example_settings_are_valid() -> None:
    client = make_client(
        name="stackademy",
        description="Answers questions about Stackademy courses.",
        provider="openai",
        default_model="gpt-4o-mini",
        default_system_role="You are a helpful assistant.",
        default_temperature=0.7,
        default_max_tokens=1024,
        app_name="Stackademy Support Bot",
        app_assistant="Stan",
        app_welcome_message="Welcome to Stackademy!",
        app_example_prompts=["What AI courses do you offer?", "Is your program free?"],
        app_placeholder="Ask me anything about Stackademy…",
        app_info_url="https://smarter.sh",
        app_background_image_url="https://cdn.smarter.sh/prompt-ui/background.png",
        app_logo_url="https://cdn.smarter.sh/prompt-ui/logo.png",
        app_file_attachment=True,
    )
    assert client.default_host == "stackademy.1234-5678-9012.alpha.api.example.com"


def test_validate_checks_fields_changed_in_place() -> None:
    client = make_client()
    client.default_temperature = 3.0
    with pytest.raises(InvalidValue) as caught:
        client.validate()
    assert caught.value.field == "default_temperature"


def test_the_spec_is_the_customer_part_of_a_client() -> None:
    client = make_client(description="d", tags=["t"], default_temperature=0.2)
    spec = client.spec
    assert type(spec) is LLMClientSpec
    assert (spec.name, spec.description, spec.tags, spec.default_temperature) == (
        "example",
        "d",
        ["t"],
        0.2,
    )


def test_with_spec_replaces_the_customer_settings_and_keeps_identity_and_state() -> None:
    client = make_client(deployed=True, dns_verification_status=DNS.VERIFIED, active_api_keys=2)
    updated = client.with_spec(LLMClientSpec(name="renamed", default_max_tokens=2048))
    assert (updated.name, updated.default_max_tokens, updated.description) == (
        "renamed",
        2048,
        "",
    )
    assert (updated.id, updated.account_number, updated.deployed) == (6, ACCOUNT, True)
    assert updated.dns_verification_status is DNS.VERIFIED
    assert updated.active_api_keys == 2
    assert client.name == "example"


def test_with_spec_validates_the_client_again() -> None:
    spec = LLMClientSpec(name="example")
    spec.name = "not valid"
    with pytest.raises(InvalidValue):
        make_client().with_spec(spec)


# -- deployment, statuses and their events ------------------------------------------------------


def test_requesting_deployment_records_an_event_once() -> None:
    client = make_client()
    assert client.request_deployment(AT) is True
    assert client.deployed is True
    assert client.events == [
        StatusEvent(
            at=AT,
            field=StatusField.DEPLOYED,
            from_status="false",
            to_status="true",
            reason="deploy requested",
        )
    ]
    assert client.request_deployment(AT + timedelta(seconds=1), "again") is False
    assert len(client.events) == 1


def test_requesting_undeployment_records_an_event_once() -> None:
    client = make_client(deployed=True)
    assert client.request_undeployment(AT, "customer asked") is True
    assert client.deployed is False
    assert client.events == [
        StatusEvent(
            at=AT,
            field=StatusField.DEPLOYED,
            from_status="true",
            to_status="false",
            reason="customer asked",
        )
    ]
    assert client.request_undeployment(AT) is False
    assert len(client.events) == 1


def test_an_undeployed_client_asked_to_undeploy_changes_nothing() -> None:
    client = make_client()
    assert client.request_undeployment(AT) is False
    assert client.events == []


def test_moving_dns_and_tls_along_their_tables_records_each_step() -> None:
    client = make_client(deployed=True)
    client.move_dns(DNS.VERIFYING, "record created", AT)
    client.move_dns(DNS.VERIFIED, "record resolves", AT)
    client.move_tls(TLS.REQUESTED, "certificate asked", AT)
    client.move_tls(TLS.ISSUED, "certificate ready", AT)
    assert client.dns_verification_status is DNS.VERIFIED
    assert client.tls_certificate_issuance_status is TLS.ISSUED
    assert [(e.field, e.from_status, e.to_status, e.reason) for e in client.events] == [
        (StatusField.DNS, "Not Verified", "Verifying", "record created"),
        (StatusField.DNS, "Verifying", "Verified", "record resolves"),
        (StatusField.TLS, "No Certificate", "Requested", "certificate asked"),
        (StatusField.TLS, "Requested", "Issued", "certificate ready"),
    ]
    assert all(e.at == AT for e in client.events)
    assert client.ready is True


def test_an_illegal_dns_move_raises_and_changes_nothing() -> None:
    client = make_client()
    with pytest.raises(IllegalTransition) as caught:
        client.move_dns(DNS.VERIFIED, "skipping the check", AT)
    assert (caught.value.current, caught.value.target) == ("Not Verified", "Verified")
    assert client.dns_verification_status is DNS.NOT_VERIFIED
    assert client.events == []


def test_an_illegal_tls_move_raises_and_changes_nothing() -> None:
    client = make_client()
    with pytest.raises(IllegalTransition) as caught:
        client.move_tls(TLS.ISSUED, "skipping the request", AT)
    assert caught.value.machine == "tls_certificate_issuance_status"
    assert client.tls_certificate_issuance_status is TLS.NO_CERTIFICATE
    assert client.events == []


def test_resetting_statuses_moves_both_back_with_events() -> None:
    client = make_client(
        dns_verification_status=DNS.VERIFIED, tls_certificate_issuance_status=TLS.ISSUED
    )
    client.reset_statuses("torn down", AT)
    assert client.dns_verification_status is DNS.NOT_VERIFIED
    assert client.tls_certificate_issuance_status is TLS.NO_CERTIFICATE
    assert [(e.field, e.from_status, e.to_status, e.reason) for e in client.events] == [
        (StatusField.DNS, "Verified", "Not Verified", "torn down"),
        (StatusField.TLS, "Issued", "No Certificate", "torn down"),
    ]


def test_resetting_statuses_that_are_already_reset_records_nothing() -> None:
    client = make_client()
    client.reset_statuses("torn down", AT)
    assert client.events == []


def test_resetting_only_moves_the_status_that_is_not_reset() -> None:
    dns_only = make_client(dns_verification_status=DNS.FAILED)
    dns_only.reset_statuses("torn down", AT)
    assert [e.field for e in dns_only.events] == [StatusField.DNS]
    tls_only = make_client(tls_certificate_issuance_status=TLS.REQUESTED)
    tls_only.reset_statuses("torn down", AT)
    assert [e.field for e in tls_only.events] == [StatusField.TLS]


# -- clone ------------------------------------------------------------------------------------


def deployed_client() -> LLMClient:
    client = make_client(
        id=42,
        owner_id=7,
        description="The support bot.",
        version="1.2.3",
        annotations={"team": "support"},
        tags=["support"],
        provider="echo",
        default_model="m",
        default_system_role="Be kind.",
        default_temperature=0.3,
        default_max_tokens=99,
        app_name="Bot",
        app_example_prompts=["Hi?"],
        app_info_url="https://smarter.sh",
        app_file_attachment=True,
        functions=["weather"],
        cors_origins=["https://shop.example.org"],
        active_api_keys=3,
        created_at=AT,
        updated_at=AT,
        custom_domain=verified_domain(),
    )
    client.request_deployment(AT)
    client.move_dns(DNS.VERIFYING, "r", AT)
    client.move_dns(DNS.VERIFIED, "r", AT)
    client.move_tls(TLS.REQUESTED, "r", AT)
    client.move_tls(TLS.ISSUED, "r", AT)
    return client


def test_a_clone_is_named_with_a_copy_suffix_and_is_not_deployed() -> None:
    original = deployed_client()
    clone = original.clone()
    assert clone.name == "example-copy"
    assert clone.id is None
    assert clone.deployed is False
    assert clone.dns_verification_status is DNS.NOT_VERIFIED
    assert clone.tls_certificate_issuance_status is TLS.NO_CERTIFICATE
    assert clone.active_api_keys == 0
    assert clone.events == []
    assert (clone.created_at, clone.updated_at) == (None, None)
    assert clone.hostname == clone.sandbox_host
    assert clone.default_host == "example-copy.1234-5678-9012.alpha.api.example.com"


def test_a_clone_keeps_the_configuration() -> None:
    original = deployed_client()
    clone = original.clone()
    for field in (
        "description",
        "version",
        "annotations",
        "tags",
        "provider",
        "default_model",
        "default_system_role",
        "default_temperature",
        "default_max_tokens",
        "app_name",
        "app_example_prompts",
        "app_info_url",
        "app_file_attachment",
        "functions",
        "cors_origins",
        "platform",
        "account_number",
        "owner_id",
        "owner_username",
        "owner_is_admin",
        "custom_domain",
    ):
        assert getattr(clone, field) == getattr(original, field), field


def test_a_clone_does_not_share_its_lists_and_dicts_with_the_original() -> None:
    original = deployed_client()
    clone = original.clone()
    clone.tags.append("new")
    clone.annotations["new"] = "yes"
    clone.app_example_prompts.append("new")
    clone.functions.append("new")
    clone.cors_origins.append("https://new.example.org")
    assert original.tags == ["support"]
    assert original.annotations == {"team": "support"}
    assert original.app_example_prompts == ["Hi?"]
    assert original.functions == ["weather"]
    assert original.cors_origins == ["https://shop.example.org"]
    assert len(original.events) == 5


def test_a_clone_takes_a_new_name_version_and_owner_when_given() -> None:
    clone = deployed_client().clone("other", "2.0.0", owner=(9, "user123", False))
    assert (clone.name, clone.version) == ("other", "2.0.0")
    assert (clone.owner_id, clone.owner_username, clone.owner_is_admin) == (9, "user123", False)
    assert clone.rfc1034_compliant_name == "other.user123"


def test_a_clone_with_an_invalid_name_is_rejected() -> None:
    with pytest.raises(InvalidValue) as caught:
        make_client().clone("not valid")
    assert caught.value.field == "name"
    with pytest.raises(InvalidValue) as caught:
        make_client(name="a" * 128).clone()
    assert caught.value.field == "name"
