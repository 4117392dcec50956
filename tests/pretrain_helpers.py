"""Shared by the pretraining tests: a tiny corpus built from a list of SMILES, one run, its loss log."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from workbench.data.corpus import build_corpus
from workbench.data.corpus_sources import Source
from workbench.train.pretrain import PretrainConfig, pretrain


def build_tiny_corpus(folder: Path, smiles: Sequence[str]):
    """A corpus of ``smiles`` in ``folder`` (no test-set removal, one worker, silent); returns its info."""
    return build_corpus(
        folder, sources=[Source("tiny", lambda: iter(smiles))], test_sets=[], workers=1, log=lambda _m: 0
    )


def run_pretrain(cfg: PretrainConfig, tmp_path: Path, **kw):
    """``pretrain`` with run and encoder folders under ``tmp_path``, silent, no progress bar."""
    return pretrain(
        cfg, runs_dir=tmp_path / "runs", out_dir=tmp_path / "enc" / cfg.run_name, log=lambda _m: 0, bar=False, **kw
    )


def loss_rows(tmp_path: Path, name: str) -> list[dict[str, str]]:
    """The rows of run ``name``'s ``loss.csv`` under ``tmp_path``."""
    with open(tmp_path / "runs" / "pretrain" / name / "loss.csv", newline="") as handle:
        return list(csv.DictReader(handle))
