"""Root conftest: loaded for every test path, so its hooks also see the notebooks nbmake collects."""

from __future__ import annotations

import pytest

#: Test modules that start a local Ray cluster: under ``pytest -n`` they share one worker, one cluster at a time.
RAY_MODULES = ("test_screen_ray.py", "test_featurize_apart.py", "test_inference_gpu.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every notebook item ``notebook`` (``make check`` deselects them with ``-m "not notebook"``), and group
    the tests that must not run beside each other when ``make test`` spreads the suite over the CPUs
    (``pytest -n 2 --dist loadgroup``): the browser tests share one app server and one Chromium, the Ray tests
    one local cluster."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif item.path.name in RAY_MODULES:
            item.add_marker(pytest.mark.xdist_group("ray"))
