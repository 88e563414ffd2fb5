"""One Prefect test harness for the flow tier; unit and db tests never pay for a server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# (Prefect's logging levels: tests/conftest.py, before any tier imports Prefect.)
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))

from prefect.testing.utilities import prefect_test_harness


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Flow tests share a harness server per xdist worker: the long seed rehearsals go to one
    # worker and the rest to another, so two servers start and the two halves run at once.
    for item in items:
        if "tests/flows/" in str(item.path):
            group = "prefect-seeds" if item.path.name == "test_seed_campaigns.py" else "prefect"
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True, scope="session")
def prefect_harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield
