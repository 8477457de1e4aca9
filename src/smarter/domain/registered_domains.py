"""Registered domains (`customer.com`, `customer.co.uk`): the names a registrar sells.

Let's Encrypt counts certificates per registered domain, and an apex name (a registered domain
itself) cannot hold a CNAME. The public suffix list decides exactly; this knows the common
suffixes of two labels, and takes any other name's last two labels. A suffix it does not know
makes a registered domain look shorter than it is: limits are then counted more strictly, and
an apex of such a domain is offered a CNAME (which the customer's DNS provider will refuse,
telling them to ask for the apex records).
"""

from __future__ import annotations

TWO_LABEL_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "ac.uk", "gov.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au",
        "co.nz", "org.nz", "net.nz",
        "co.jp", "ne.jp", "or.jp", "ac.jp",
        "com.br", "net.br", "org.br",
        "co.in", "net.in", "org.in", "firm.in",
        "co.za", "org.za",
        "com.cn", "net.cn", "org.cn",
        "com.mx", "org.mx",
        "co.kr", "or.kr",
        "com.sg", "com.hk", "com.tw", "com.tr", "com.ar", "com.co",
    }
)  # fmt: skip


def registered_domain(name: str) -> str:
    """The registered domain `name` belongs to (`chat.customer.co.uk` → `customer.co.uk`)."""
    labels = name.lower().rstrip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def is_registered_domain(name: str) -> bool:
    return registered_domain(name) == name.lower().rstrip(".")
