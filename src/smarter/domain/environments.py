"""Environments and the domains each one serves: the console and API domains, the scheme."""

from __future__ import annotations

import enum

import msgspec

from smarter.domain.errors import InvalidValue


class Environment(enum.StrEnum):
    LOCAL = "local"
    ALPHA = "alpha"
    BETA = "beta"
    NEXT = "next"
    PROD = "prod"

    @classmethod
    def parse(cls, raw: str) -> Environment:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            allowed = ", ".join(e.value for e in cls)
            raise InvalidValue("environment", f"'{raw}' is not one of {allowed}") from None


# The environments whose name is a label in front of the platform and API subdomains.
PREFIXED_ENVIRONMENTS = (Environment.ALPHA, Environment.BETA, Environment.NEXT)
LOCAL_HOSTNAMES = ("localhost", "127.0.0.1")


class Platform(msgspec.Struct, frozen=True, kw_only=True):
    """Where the platform lives: everything the host and URL rules need to know."""

    root_domain: str = "example.com"
    platform_subdomain: str = "platform"
    api_subdomain: str = "api"
    environment: Environment = Environment.LOCAL
    local_port: int = 9357

    @property
    def scheme(self) -> str:
        return "http" if self.environment is Environment.LOCAL else "https"

    def console_domain_of(self, environment: Environment) -> str:
        if environment is Environment.LOCAL:
            return f"localhost:{self.local_port}"
        return self._qualified(environment, self.platform_subdomain)

    def api_domain_of(self, environment: Environment) -> str:
        if environment is Environment.LOCAL:
            return f"api.localhost:{self.local_port}"
        return self._qualified(environment, self.api_subdomain)

    @property
    def console_domain(self) -> str:
        """The console (platform) domain of this environment, with the port in `local`."""
        return self.console_domain_of(self.environment)

    @property
    def api_domain(self) -> str:
        """The API domain of this environment, with the port in `local`."""
        return self.api_domain_of(self.environment)

    @property
    def base_api_domain(self) -> str:
        """The API domain client hosts hang under; `local` uses a DNS-shaped stand-in."""
        if self.environment is Environment.LOCAL:
            return f"{self.api_subdomain}.local.{self.root_domain}"
        return self.api_domain

    def _qualified(self, environment: Environment, subdomain: str) -> str:
        if environment is Environment.PROD:
            return f"{subdomain}.{self.root_domain}"
        return f"{environment.value}.{subdomain}.{self.root_domain}"
