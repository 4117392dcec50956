"""Root conftest: loaded for every test path, so its hooks also see the notebooks nbmake collects."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every notebook item ``notebook`` (``make check`` deselects them with ``-m "not notebook"``)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
