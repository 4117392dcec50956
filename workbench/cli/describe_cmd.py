"""``workbench describe SMILES -k 5``: molecule → the closest ChEBI-20 descriptions."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "describe",
        help="the ChEBI-20 descriptions that best fit a molecule",
        description="Ranks the 6,601 ChEBI-20 descriptions by cosine similarity to the molecule in the shared space "
        "of the shipped molecule-text dual encoder (models/retrieval_amole).",
    )
    p.add_argument("smiles", help="the molecule as SMILES")
    p.add_argument("-k", type=int, default=5, help="number of descriptions (default 5)")
    p.add_argument("-o", "--output", help="output CSV (default: a readable listing on stdout)")
    p.add_argument("--model", default="retrieval_amole", help="dual-encoder checkpoint name")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.retrieval import describe, load_retriever

    table = describe(args.smiles, args.k, retriever=load_retriever(args.model))
    if args.output:
        table.to_csv(args.output, index=False)
        return 0
    for row in table.itertuples():
        print(f"{row.rank}. score {row.score:.3f}  (ChEBI-20 CID {row.cid})\n   {row.description}\n", file=sys.stdout)
    return 0
