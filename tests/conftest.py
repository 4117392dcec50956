"""Shared fixtures: isolated data/model folders and a loopback HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty WORKBENCH_DATA_DIR and WORKBENCH_CACHE_DIR for one test."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    cache.mkdir()
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(cache))
    return data, cache


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty WORKBENCH_MODELS_DIR, with the inference cache cleared around the test."""
    from workbench import inference

    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(folder))
    inference.clear_cache()
    yield folder
    inference.clear_cache()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a temporary folder on 127.0.0.1; yields (base URL, folder)."""
    root = tmp_path / "served"
    root.mkdir()

    def handler(*args: object, **kwargs: object) -> _Handler:
        return _Handler(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
