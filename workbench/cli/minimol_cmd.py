"""``workbench minimol train|embed``: heads on MiniMol embeddings, and the embeddings themselves."""

from __future__ import annotations

import argparse
import shlex
import sys

from workbench.cli.streaming import ChunkWriter, add_chunk_option, check_common, chunks_or_empty, read_errors_first

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("minimol", help="MiniMol embeddings: train prediction heads on them, or export them")
    verbs = p.add_subparsers(dest="minimol_verb", metavar="ACTION")

    t = verbs.add_parser("train", help="train an MLP head ensemble on MiniMol embeddings, one member per seed")
    t.add_argument("--dataset", required=True, help="MoleculeNet name (bbbp, lipophilicity, ...)")
    t.add_argument("--split", default="scaffold", choices=["scaffold", "random"])
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--epochs", type=int, default=200, help="maximum epochs (early stopping on validation)")
    t.add_argument("--threads", type=int, default=1, help="torch and onnxruntime CPU threads")
    t.add_argument("--name", help="checkpoint name (default minimol_<dataset>)")
    t.add_argument("--models-dir", default="models")
    t.add_argument("--cache-dir", default="runs/minimol", help="where embeddings are cached")
    t.set_defaults(func=run_train)

    e = verbs.add_parser("embed", help="MiniMol embeddings of a file of molecules -> CSV (one row per input)")
    e.add_argument("input", help="a CSV with a smiles column, a .smi or an .sdf file")
    e.add_argument("-o", "--output", help="output CSV (default: stdout)")
    e.add_argument("--smiles-column", help="CSV column holding the SMILES (default: 'smiles')")
    add_chunk_option(e)
    e.set_defaults(func=run_embed)
    p.set_defaults(func=lambda _args: p.print_help() or 2)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from workbench.train.minimol_heads import MinimolHeadConfig, train_minimol_head

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = MinimolHeadConfig(
        dataset=args.dataset,
        name=args.name or f"minimol_{args.dataset.lower()}",
        split=args.split,
        seeds=args.seeds,
        hidden=args.hidden,
        epochs=args.epochs,
        threads=args.threads,
    )
    command = shlex.join(["workbench", *sys.argv[1:]])
    card = train_minimol_head(cfg, models_dir=args.models_dir, cache_dir=args.cache_dir, command=command)
    print(f"wrote {args.models_dir}/{card.name}: test {card.to_dict()['metrics']['test']}")
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from workbench.chem.files import iter_molecule_chunks
    from workbench.featurizers.minimol import get_embedder

    check_common(args)
    embedder = get_embedder()
    chunks = iter_molecule_chunks(args.input, chunk_size=args.chunk_size, smiles_column=args.smiles_column)
    with ChunkWriter(args.output) as writer:
        for chunk in chunks_or_empty(chunks):
            writer.write_csv(read_errors_first(_embed_chunk(chunk, embedder), chunk))
    print(f"{writer.counts.rows} rows, {writer.counts.errors} with an error", file=sys.stderr)
    return 0


def _embed_chunk(chunk, embedder):
    """``input``, ``smiles``, ``error``, ``warnings`` and ``minimol_0..`` for one chunk (NaN where no embedding)."""
    import pandas as pd

    from workbench import chem

    parsed = chem.parse(chunk["smiles"].fillna("").astype(str).tolist(), inchikey=False)
    mols = parsed.attrs["mols"]
    rows = [i for i, m in enumerate(mols) if m is not None]
    x, errors = embedder.embed([mols[i] for i in rows])
    table = pd.DataFrame(float("nan"), index=parsed.index, columns=[f"minimol_{k}" for k in range(x.shape[1])])
    table.iloc[rows] = x
    out_errors = parsed["error"].tolist()
    for i, err in zip(rows, errors, strict=True):
        out_errors[i] = out_errors[i] or err
    return pd.concat([parsed[["input", "smiles"]].assign(error=out_errors, warnings=parsed["warnings"]), table], axis=1)
