"""Benchmark cells appended by runs side by side (one per CPU) are all kept."""

import multiprocessing

from bench.cells import append_cell, read_cells


def _append_many(path, worker: int, n: int) -> None:
    for i in range(n):
        append_cell({"worker": worker, "cell": i}, path)


def test_two_processes_appending_at_once_lose_no_cell(tmp_path):
    path = tmp_path / "cells.csv"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(path, w, 40)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    cells = read_cells(path)
    assert sorted(zip(cells["worker"], cells["cell"], strict=True)) == [(w, i) for w in range(4) for i in range(40)]
    assert not list(tmp_path.glob("*.tmp"))
