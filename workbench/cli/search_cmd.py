"""``workbench search "TEXT" [--library drugs|chebi|FILE] -k 10 -o hits.csv``: text → molecules."""

from __future__ import annotations

import argparse
import sys

from workbench.cli.streaming import DEFAULT_CHUNK_SIZE, UsageError, check_at_least, check_input, check_output

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
    p.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help="molecules of a library FILE embedded at a time; bounds memory "
        f"(default {DEFAULT_CHUNK_SIZE:,}; a file that fits in one chunk is embedded once and cached)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.retrieval import embed_library, load_retriever, search_molecules

    if not args.text.strip():
        raise UsageError("the query text is empty")
    check_at_least("-k", args.k)
    check_at_least("--chunk-size", args.chunk_size)
    check_output(args.output)
    if args.library not in ("drugs", "chebi"):
        check_input(args.library)
    retriever = load_retriever(args.model)
    if args.library in ("drugs", "chebi"):
        library = embed_library(args.library, retriever)
        total, failed = len(library), int((library.frame["error"] != "").sum())
    else:
        library, total, failed = _stream_candidates(args, retriever)
    hits = search_molecules(args.text, library, args.k, retriever=retriever)
    hits.to_csv(args.output or sys.stdout, index=False)
    print(f"{len(hits)} hits from {total} molecules ({failed} could not be embedded)", file=sys.stderr)
    return 0


def _stream_candidates(args: argparse.Namespace, retriever):
    """A library FILE read in chunks, keeping only the best-scoring rows (enough to merge salt forms).

    Returns ``(library of the candidates, rows read, rows that could not be embedded)``; a file that
    fits in one chunk is embedded through :func:`embed_library` (cached on disk, as before).
    """
    import numpy as np
    import pandas as pd

    from workbench.chem.files import iter_molecule_chunks
    from workbench.cli.streaming import read_errors_first
    from workbench.retrieval import embed_library
    from workbench.retrieval.index import EmbeddingIndex
    from workbench.retrieval.library import Library

    query = retriever.embed_texts([args.text])
    keep = max(4 * args.k, args.k + 100)  # room for salt forms of one molecule, merged by search_molecules
    frame, vectors = None, None
    total = failed = 0
    chunks = iter_molecule_chunks(args.library, chunk_size=args.chunk_size)
    for chunk in chunks:
        if total == 0 and len(chunk) < args.chunk_size:  # the whole file in one chunk: the cached path
            library = embed_library(chunk.drop(columns=["read_error"], errors="ignore"), retriever)
            # rows the reader refused have no SMILES to embed (never ranked); their error says why
            library = Library(library.name, read_errors_first(library.frame, chunk), library.index, library.model_hash)
            return library, len(library), int((library.frame["error"] != "").sum())
        embedded, parsed = retriever.embed_molecules(chunk["smiles"].fillna("").astype(str).tolist())
        rows = chunk.drop(columns=["read_error"], errors="ignore").rename(columns={"smiles": "input"})
        rows.insert(1, "smiles", parsed["smiles"].to_numpy())
        rows["error"] = read_errors_first(parsed, chunk)["error"].to_numpy()
        embedded[rows["error"].to_numpy() != ""] = 0.0  # never ranked
        total, failed = total + len(rows), failed + int((rows["error"] != "").sum())
        frame = rows if frame is None else pd.concat([frame, rows], ignore_index=True)
        vectors = embedded if vectors is None else np.concatenate([vectors, embedded])
        _, idx = EmbeddingIndex(vectors, kind="exact").search(query, keep)
        frame, vectors = frame.iloc[idx[0]].reset_index(drop=True), vectors[idx[0]]
    if frame is None:
        raise ValueError(f"{args.library} holds no molecules")
    return Library("file", frame, EmbeddingIndex(vectors), retriever.model_hash), total, failed
