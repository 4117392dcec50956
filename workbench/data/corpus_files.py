"""Finished pretraining corpora on disk: their reports, seeded subsets, and reading them back.

A corpus file (``corpus.csv``: ``smiles,inchikey,source``) sits beside its report
(``corpus.json``, same stem) that records its sha256; :func:`load_corpus_info` refuses a
file that no longer matches. :func:`corpus_subset` writes a seeded sample beside it once.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from workbench.data.paths import cache_dir
from workbench.hashing import sha256_file

__all__ = [
    "CORPUS_FILE",
    "REPORT_FILE",
    "CorpusInfo",
    "corpus_dir",
    "corpus_subset",
    "load_corpus_info",
    "read_corpus_smiles",
]

CORPUS_FILE = "corpus.csv"
REPORT_FILE = "corpus.json"


@dataclass(frozen=True)
class CorpusInfo:
    """A corpus file, its sha256, its size and its report."""

    path: Path
    sha256: str
    molecules: int
    report: dict


def corpus_dir() -> Path:
    """Default output folder: ``<WORKBENCH_CACHE_DIR>/corpus``."""
    return cache_dir() / "corpus"


def load_corpus_info(out_dir: str | Path | None = None, name: str = CORPUS_FILE) -> CorpusInfo:
    """A finished corpus (or subset) and its report; the file must still match the recorded sha256."""
    out = Path(out_dir) if out_dir is not None else corpus_dir()
    path = out / name
    report_path = path.with_suffix(".json")
    if not path.is_file() or not report_path.is_file():
        raise FileNotFoundError(f"no corpus at {path}; build it with: workbench data corpus --out {out}")
    report = json.loads(report_path.read_text())
    digest = sha256_file(path)
    if digest != report["corpus"]["sha256"]:
        raise ValueError(f"{path} does not match the sha256 in {report_path.name}; rebuild it (--force)")
    return CorpusInfo(path, digest, int(report["corpus"]["molecules"]), report)


def corpus_subset(corpus: CorpusInfo, molecules: int, seed: int = 0) -> CorpusInfo:
    """A seeded sample of ``molecules`` rows (file order kept), written beside the corpus once and reused."""
    if molecules >= corpus.molecules:
        if molecules > corpus.molecules:
            raise ValueError(f"the corpus has {corpus.molecules:,} molecules; cannot sample {molecules:,}")
        return corpus
    name = f"{corpus.path.stem}-{molecules}-seed{seed}.csv"
    path = corpus.path.with_name(name)
    if path.is_file() and path.with_suffix(".json").is_file():
        info = load_corpus_info(path.parent, name)
        if info.report.get("parent", {}).get("sha256") == corpus.sha256:
            return info
    chosen = np.zeros(corpus.molecules, dtype=bool)
    chosen[np.random.default_rng(seed).choice(corpus.molecules, molecules, replace=False)] = True
    tmp = path.with_name(name + ".tmp")
    with open(corpus.path) as src, open(tmp, "w") as dst:
        dst.write(next(src))
        for keep, line in zip(chosen, src, strict=True):
            if keep:
                dst.write(line)
    tmp.replace(path)
    digest = sha256_file(path)
    report = {
        "corpus": {"file": name, "sha256": digest, "molecules": molecules},
        "parent": {"file": corpus.path.name, "sha256": corpus.sha256, "molecules": corpus.molecules},
        "sample": {"molecules": molecules, "seed": seed, "method": "numpy default_rng(seed).choice, file order"},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return CorpusInfo(path, digest, molecules, report)


def read_corpus_smiles(path: str | Path) -> list[str]:
    """The ``smiles`` column of a corpus file, in file order."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        column = next(reader).index("smiles")
        return [row[column] for row in reader]
