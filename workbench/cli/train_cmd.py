"""``workbench train finetune`` / ``baseline`` (shipped checkpoints), ``train pretrain`` and ``train custom``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from workbench.cli.custom_cmd import register as register_custom
from workbench.cli.pretrain_cmd import register as register_pretrain

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train checkpoints (GIN fine-tuning, fingerprint baselines)")
    verbs = train.add_subparsers(dest="train_verb", metavar="ACTION")

    ft = verbs.add_parser("finetune", help="fine-tune a GIN ensemble, one member per seed")
    ft.add_argument("--dataset", required=True, help="MoleculeNet name (bbbp, esol, ...) or a MoleculeACE target")
    ft.add_argument("--split", default="scaffold", choices=["scaffold", "random", "moleculeace"])
    ft.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ft.add_argument("--init", help="encoder weights: a .safetensors file or a checkpoint folder")
    ft.add_argument("--epochs", type=int, default=100, help="maximum epochs (early stopping on validation)")
    ft.add_argument("--patience", type=int, default=15)
    ft.add_argument("--batch-size", type=int, default=32)
    ft.add_argument("--lr", type=float, default=1e-3)
    ft.add_argument("--device", default="cpu", help="cpu or cuda")
    ft.add_argument("--threads", type=int, help="torch CPU threads")
    ft.add_argument("--name", help="checkpoint name (default <dataset>_gin)")
    ft.add_argument("--models-dir", default="models")
    ft.add_argument("--runs-dir", default="runs", help="logs and resumable state")
    ft.add_argument(
        "--only-if-better",
        action="store_true",
        help="replace a checkpoint of this name only if the new ensemble is better on validation; the card that "
        "stays records both (e.g. with --init models/encoders/attrmask)",
    )
    ft.set_defaults(func=run_finetune)

    bl = verbs.add_parser("baseline", help="random forest / XGBoost / SVR on ECFP4, one model per seed")
    bl.add_argument("--dataset", required=True)
    bl.add_argument("--model", required=True, choices=["rf", "xgboost", "svr"])
    bl.add_argument("--split", default="scaffold", choices=["scaffold", "random", "moleculeace"])
    bl.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    bl.add_argument("--name", help="checkpoint name (default <dataset>_<model>)")
    bl.add_argument("--models-dir", default="models")
    bl.add_argument("--jobs", type=int, default=1, help="CPU workers")
    bl.set_defaults(func=run_baseline)

    ch = verbs.add_parser("champion", help="refit a data set's champion (best on validation in the champion search)")
    ch.add_argument("--dataset", required=True, help="a MoleculeNet set the search has cells for")
    ch.add_argument("--cells", default="bench/results/champions.csv", help="the search's cells")
    ch.add_argument(
        "--pretraining-cells",
        default="bench/results/pretraining_cells.csv",
        help="the pretraining benchmark's cells (the search's GIN candidates)",
    )
    ch.add_argument("--candidate", metavar="FAMILY:FEATURES", help="ship this candidate instead (e.g. xgboost:ecfp4)")
    ch.add_argument("--note", default="", help="why this candidate or these seeds were shipped (kept in the card)")
    ch.add_argument("--float16", action="store_true", help="store an MLP champion's weights in half precision")
    ch.add_argument("--partial", action="store_true",
                    help="ship the leader of a search whose grid is not fully fitted (said in the card)")  # fmt: skip
    ch.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ch.add_argument("--minimol-cache", default="runs/minimol", help="the search's MiniMol embeddings cache")
    ch.add_argument("--name", help="checkpoint name (default <dataset>_champion)")
    ch.add_argument("--models-dir", default="models")
    ch.add_argument("--jobs", type=int, default=2, help="threads of the forests and boosters")
    ch.set_defaults(func=run_champion)

    rt = verbs.add_parser("retrieval", help="AMOLE-style molecule-text dual encoder on ChEBI-20")
    rt.add_argument("--split", default="cid", choices=["cid", "scaffold"])
    rt.add_argument("--seed", type=int, default=0)
    rt.add_argument("--epochs", type=int, default=10)
    rt.add_argument("--batch-size", type=int, default=128)
    rt.add_argument("--lr", type=float, default=5e-4)
    rt.add_argument("--no-s2p", action="store_true", help="plain symmetric InfoNCE instead of AMOLE's S2P loss")
    rt.add_argument("--no-augment", action="store_true", help="no similar-molecule augmentation")
    rt.add_argument("--no-er", action="store_true", help="no expertise-reconstruction term")
    rt.add_argument("--tau1", type=float, default=0.1)
    rt.add_argument("--tau2", type=float, default=0.1)
    rt.add_argument("-p", "--aug-p", type=float, default=0.5, help="augmentation probability")
    rt.add_argument("-k", "--aug-k", type=int, default=50, help="augmentation: draw from the k most similar")
    rt.add_argument("--alpha", type=float, default=1.0, help="weight of the ER term")
    rt.add_argument("--num-layer", type=int, help="GIN layers (default 3, or the --init-encoder's)")
    rt.add_argument("--emb-dim", type=int, help="GIN width (default 256, or the --init-encoder's)")
    rt.add_argument("--init", help="GIN encoder weights: a .safetensors file or a checkpoint folder")
    rt.add_argument(
        "--init-encoder",
        metavar="CHECKPOINT",
        help="start the GIN from a shipped GIN checkpoint (name, e.g. bace_gin, or folder): its seed-0 gnn.* "
        "weights; the GIN takes its size (5x300); the card records the source and its sha256",
    )
    rt.add_argument(
        "--text-trainable-layers",
        type=int,
        default=0,
        metavar="N",
        help="fine-tune the top N all-MiniLM-L6-v2 layers (their input token states are cached once per run); "
        "0 (default): MiniLM frozen",
    )
    rt.add_argument("--text-lr", type=float, default=5e-5, help="learning rate of the fine-tuned MiniLM layers")
    rt.add_argument(
        "--towers",
        nargs="+",
        default=["gin"],
        choices=["gin", "minimol", "ecfp4+rdkit2d"],
        help="molecule tower(s): the GIN (default), an MLP over the frozen MiniMol embedding or over ECFP4 + RDKit "
        "2D descriptors; two towers are fused late (mean of their cosines)",
    )
    rt.add_argument("--hidden", type=int, default=512, help="hidden width of the feature towers' MLPs")
    rt.add_argument(
        "--select",
        default="mrr",
        choices=["mrr", "class_auc", "class_ap"],
        help="the validation score that keeps an epoch: MRR (default) or the class-level mean ROC-AUC / average "
        "precision on the validation molecules",
    )
    rt.add_argument("--device", default="cpu")
    rt.add_argument("--threads", type=int, default=1)
    rt.add_argument("--name", default="retrieval_amole")
    rt.add_argument("--models-dir", default="models")
    rt.add_argument("--runs-dir", default="runs")
    rt.set_defaults(func=run_retrieval)
    register_pretrain(verbs)
    register_custom(verbs)
    train.set_defaults(func=lambda _args: train.print_help() or 2)


def _command() -> str:
    return shlex.join(["workbench", *sys.argv[1:]])


def run_finetune(args: argparse.Namespace) -> int:
    from workbench.train.finetune import FinetuneConfig, finetune

    cfg = FinetuneConfig(
        dataset=args.dataset,
        name=args.name or f"{args.dataset.lower()}_gin",
        split=args.split,
        seeds=args.seeds,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        lr=args.lr,
        init=args.init,
        device=args.device,
        threads=args.threads,
    )
    card = finetune(
        cfg, models_dir=args.models_dir, runs_dir=args.runs_dir, command=_command(), only_if_better=args.only_if_better
    )
    comparison = (card.training or {}).get("init_comparison")
    if args.only_if_better and comparison is not None:
        metric = comparison["metric"]
        old, new = comparison["candidates"]
        verdict = "replaced" if comparison["kept"] == 1 else "kept (the new ensemble is not better on validation)"
        print(
            f"{args.models_dir}/{card.name} {verdict}: validation {metric} {old['valid']['mean']:.4f} "
            f"({old['init'] or 'no pretraining'}) vs {new['valid']['mean']:.4f} ({new['init'] or 'no pretraining'})"
        )
    print(f"{args.models_dir}/{card.name}: test {card.to_dict()['metrics']['test']}")
    return 0


def run_baseline(args: argparse.Namespace) -> int:
    from workbench.train.baselines import BaselineConfig, train_baseline

    cfg = BaselineConfig(
        dataset=args.dataset,
        model=args.model,
        name=args.name or f"{args.dataset.lower()}_{args.model}",
        split=args.split,
        seeds=args.seeds,
        jobs=args.jobs,
    )
    card = train_baseline(cfg, models_dir=args.models_dir, command=_command())
    print(f"wrote {args.models_dir}/{card.name}: test {card.to_dict()['metrics']['test']}")
    return 0


def run_champion(args: argparse.Namespace) -> int:
    from workbench.champions.gin import candidate_cells
    from workbench.champions.ship import ChampionError, train_champion
    from workbench.data.stored_results import read_stored_cells

    cells = candidate_cells(read_stored_cells(Path(args.cells)), read_stored_cells(Path(args.pretraining_cells)))
    try:
        folder = train_champion(args.dataset, cells, name=args.name, candidate=args.candidate,
                                partial=args.partial, models_dir=args.models_dir, seeds=tuple(args.seeds),
                                jobs=args.jobs, minimol_cache=args.minimol_cache, note=args.note,
                                float16=args.float16,
                                command=_command())  # fmt: skip
    except ChampionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {folder}; calibrate it with `workbench models calibrate {folder.name}`")
    return 0


def run_retrieval(args: argparse.Namespace) -> int:
    from workbench.train.encoder_init import resolve_init_encoder
    from workbench.train.retrieval import RetrievalConfig, train_retrieval

    num_layer, emb_dim = args.num_layer or 3, args.emb_dim or 256
    if args.init_encoder:
        info = resolve_init_encoder(args.init_encoder)[1]
        sizes = (("--num-layer", args.num_layer, info["num_layer"]), ("--emb-dim", args.emb_dim, info["emb_dim"]))
        for flag, given, needed in sizes:
            if given not in (None, needed):
                print(f"error: {flag} {given} does not fit {info['checkpoint']} ({needed})", file=sys.stderr)
                return 2
        num_layer, emb_dim = info["num_layer"], info["emb_dim"]
    cfg = RetrievalConfig(
        name=args.name,
        split=args.split,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        s2p=not args.no_s2p,
        augment=not args.no_augment,
        er=not args.no_er,
        tau1=args.tau1,
        tau2=args.tau2,
        p=args.aug_p,
        k=args.aug_k,
        alpha=args.alpha,
        num_layer=num_layer,
        emb_dim=emb_dim,
        init=args.init,
        init_encoder=args.init_encoder,
        text_trainable_layers=args.text_trainable_layers,
        text_lr=args.text_lr,
        towers=list(args.towers),
        hidden=args.hidden,
        select=args.select,
        threads=args.threads,
    )
    result = train_retrieval(
        cfg, models_dir=args.models_dir, runs_dir=args.runs_dir, command=_command(), device=args.device
    )
    print(f"wrote {args.models_dir}/{cfg.name}: test {result['test']}")
    return 0
