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
    confs = verbs.add_parser(
        "conformers",
        help="3D conformers for a corpus sample (GraphMVP pretraining), resumable",
        description="ETKDG conformers (MMFF94s-optimized) for every molecule of the corpus or of its seeded "
        "sample (--molecules, --seed: the same sample `workbench train pretrain --method graphmvp` trains on), in "
        "shards beside the corpus with an index, failures.csv and report.json. Run again to resume or heal.",
    )
    confs.add_argument("--corpus", help="corpus folder or file (default <WORKBENCH_CACHE_DIR>/corpus/corpus.csv)")
    confs.add_argument("--molecules", type=int, help="a seeded sample of this many corpus molecules")
    confs.add_argument("--seed", type=int, default=0, help="seed of the --molecules sample (default 0)")
    confs.add_argument("--conformers", type=int, default=5, help="conformers embedded per molecule (default 5)")
    confs.add_argument("--optimize", default="MMFF94s", choices=["MMFF94s", "MMFF94", "UFF", "none"])
    confs.add_argument("--max-seconds", type=float, default=30.0, help="time limit per molecule (default 30)")
    confs.add_argument("--shard-size", type=int, default=1000, help="molecules per shard (default 1000)")
    confs.add_argument("--workers", type=int, default=1, help="conformer processes (default 1)")
    confs.add_argument("--force", action="store_true", help="remake a cache made with other settings")
    confs.set_defaults(func=run_conformers)
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


def run_conformers(args: argparse.Namespace) -> int:
    import signal
    import sys
    from pathlib import Path

    from workbench.data.corpus_conformers import build_corpus_conformers
    from workbench.data.corpus_files import CORPUS_FILE, corpus_dir, corpus_subset, load_corpus_info

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # finished shards are kept; the same command resumes
    where = Path(args.corpus) if args.corpus else corpus_dir()
    try:
        corpus = load_corpus_info(where.parent, where.name) if where.is_file() else load_corpus_info(where, CORPUS_FILE)
        if args.molecules:
            corpus = corpus_subset(corpus, args.molecules, args.seed)
        cache = build_corpus_conformers(
            corpus,
            conformers=args.conformers,
            optimize=None if args.optimize == "none" else args.optimize,
            max_seconds=args.max_seconds,
            shard_size=args.shard_size,
            workers=args.workers,
            force=args.force,
            log=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 2
    report = cache.report
    print(
        f"conformers: {cache.folder} ({report['with_conformers']:,} of {report['molecules']:,} molecules, "
        f"{report['conformers']:,} conformers, {report['failures']:,} failures, sha256 {report['sha256']})"
    )
    return 0
