"""``workbench search "TEXT" [--library drugs|chebi|FILE] -k 10 -o hits.csv``: text → molecules."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="find the molecules of a library that best fit a text description",
        description="Ranks a molecule library by cosine similarity to the text in the shared space of the shipped "
        "molecule-text dual encoder (models/retrieval_amole). Output rows are ranked by the 'score' column.",
    )
    p.add_argument("text", help='the query, e.g. "an inhibitor of acetylcholinesterase used for dementia"')
    p.add_argument(
        "--library",
        default="drugs",
        help="drugs (ChEMBL approved drugs, default), chebi (ChEBI-20 molecules) or a CSV/SMI/SDF file",
    )
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("-o", "--output", help="output CSV (default: stdout)")
    p.add_argument("--model", default="retrieval_amole", help="dual-encoder checkpoint name")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.retrieval import embed_library, load_retriever, search_molecules

    retriever = load_retriever(args.model)
    library = embed_library(args.library, retriever)
    hits = search_molecules(args.text, library, args.k, retriever=retriever)
    hits.to_csv(args.output or sys.stdout, index=False)
    failed = int((library.frame["error"] != "").sum())
    print(f"{len(hits)} hits from {len(library)} molecules ({failed} could not be embedded)", file=sys.stderr)
    return 0
