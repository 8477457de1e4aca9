"""One account never reads, changes or detects another account's objects (404, never 403)."""

from __future__ import annotations

from tests.integration.http.conftest import Api
from tests.integration.http.isolation import run_isolation_matrix


async def test_another_account_gets_404_and_nothing_of_the_object_on_every_id_endpoint(
    api: Api,
) -> None:
    await run_isolation_matrix(api)
