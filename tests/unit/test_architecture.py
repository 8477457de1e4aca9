"""The import rules of the layers (domain <- application <- adapters and entrypoints),
checked on the source with `ast`.

The domain depends on the standard library and msgspec only; the application adds the domain.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "smarter"


def modules_of(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, path: Path) -> list[str]:
    """The absolute names of the modules `source`, living at `path`, imports."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join([*base, node.module] if node.module else base))
            else:
                names.append(node.module or "")
    return names


def allowed(name: str, internal: tuple[str, ...]) -> bool:
    top = name.split(".")[0]
    if top == "__future__" or top in sys.stdlib_module_names or top == "msgspec":
        return True
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in internal)


def forbidden_imports(package: str, internal: tuple[str, ...]) -> list[str]:
    return [
        f"{module_name(path)} imports {name}"
        for path in modules_of(package)
        for name in imports_in(path.read_text(encoding="utf-8"), path)
        if not allowed(name, internal)
    ]


def test_the_domain_imports_only_the_standard_library_msgspec_and_itself() -> None:
    assert modules_of("domain"), "the domain package has no modules"
    assert forbidden_imports("domain", ("smarter.domain",)) == []


def test_the_application_imports_only_the_standard_library_msgspec_and_the_domain() -> None:
    internal = ("smarter.domain", "smarter.application")
    assert forbidden_imports("application", internal) == []


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("import os\nimport msgspec\n", []),
        ("from smarter.domain.errors import InvalidValue\n", []),
        ("from . import errors\n", []),
        ("from .errors import InvalidValue\n", []),
        ("import litestar\n", ["litestar"]),
        ("from sqlalchemy.orm import Session\n", ["sqlalchemy.orm"]),
        ("from smarter.adapters import x\n", ["smarter.adapters"]),
        ("from ..adapters import x\n", ["smarter.adapters"]),
        ("from .. import adapters\n", ["smarter"]),
        ("def f():\n    import yaml\n", ["yaml"]),
        ("import smarter.entrypoints.cli\n", ["smarter.entrypoints.cli"]),
        ("import smarter.domainx\n", ["smarter.domainx"]),
    ],
)
def test_the_check_tells_allowed_imports_from_forbidden_ones(
    source: str, forbidden: list[str]
) -> None:
    names = imports_in(source, SRC / "domain" / "probe.py")
    assert [name for name in names if not allowed(name, ("smarter.domain",))] == forbidden
