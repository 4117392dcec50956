"""``workbench data list`` (every data set, its size and where it was found) and ``workbench data corpus``."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="data sets: list what is available")
    verbs = data.add_subparsers(dest="data_verb", metavar="ACTION")
    lst = verbs.add_parser("list", help="show each data set, its size and where it was found")
    lst.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    lst.add_argument("--no-targets", action="store_true", help="summarize MoleculeACE's 30 targets in one line")
    lst.set_defaults(func=run_list)
    corpus = verbs.add_parser(
        "corpus",
        help="build the deduplicated pretraining corpus (MOSES + every other SMILES), resumable",
        description="Standardize MOSES's training set and every other SMILES the workbench has, drop failures, "
        "downstream MoleculeNet test molecules (scaffold split) and duplicates (InChIKey); writes corpus.csv, "
        "its report corpus.json (sources, counts, sha256, wall time) and failures.csv to --out. An interrupted "
        "build resumes from its finished chunks when run again.",
    )
    corpus.add_argument("--molecules", type=int, help="also write a seeded sample of this many molecules")
    corpus.add_argument("--seed", type=int, default=0, help="seed of the --molecules sample (default 0)")
    corpus.add_argument("--out", help="output folder (default <WORKBENCH_CACHE_DIR>/corpus)")
    corpus.add_argument("--workers", type=int, default=2, help="standardization processes (default 2)")
    corpus.add_argument("--force", action="store_true", help="rebuild even if a finished corpus is there")
    corpus.set_defaults(func=run_corpus)
    data.set_defaults(func=lambda _args: data.print_help() or 2)


def run_list(args: argparse.Namespace) -> int:
    from workbench.data import data_dir, list_datasets

    table = list_datasets(include_moleculeace_targets=not args.no_targets)
    if args.csv:
        print(table.to_csv(index=False), end="")
    else:
        print(f"WORKBENCH_DATA_DIR: {data_dir()}")
        print(table.to_string(index=False))
    return 0


def run_corpus(args: argparse.Namespace) -> int:
    import signal

    from workbench.data.corpus import build_corpus, corpus_subset

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a killed build records its wall time and resumes later
    info = build_corpus(args.out, workers=args.workers, force=args.force)
    totals = info.report["totals"]
    removed = info.report["removed_test_molecules"]
    print(f"corpus: {info.path} ({info.molecules:,} molecules, sha256 {info.sha256})")
    print(
        f"from {totals['rows']:,} inputs: {totals['parse_failures']:,} unparsable, "
        f"{totals['inchikey_failures']:,} without InChIKey, {totals['featurize_failures']:,} featurizer failures, "
        f"{totals['duplicates']:,} duplicates, {removed['molecules']:,} test molecules "
        f"({removed['rows']:,} rows) removed; report: {info.path.with_suffix('.json')}"
    )
    if args.molecules:
        subset = corpus_subset(info, args.molecules, args.seed)
        print(f"subset: {subset.path} ({subset.molecules:,} molecules, seed {args.seed}, sha256 {subset.sha256})")
    return 0
