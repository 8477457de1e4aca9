"""The package list pyproject.toml cannot express: the top-level alembic/ folder ships inside
the package as `smarter.adapters.sql.migration_scripts`, so `smarter db upgrade` finds its
migrations in any installation, editable or not."""

from setuptools import find_namespace_packages, setup

MIGRATIONS = "smarter.adapters.sql.migration_scripts"

setup(
    packages=[
        *find_namespace_packages("src", include=["smarter", "smarter.*"]),
        MIGRATIONS,
        f"{MIGRATIONS}.versions",
    ],
    package_dir={"": "src", MIGRATIONS: "alembic"},
)
