"""``workbench train finetune`` and ``workbench train baseline``: make shipped checkpoints."""

from __future__ import annotations

import argparse
import shlex
import sys

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
    card = finetune(cfg, models_dir=args.models_dir, runs_dir=args.runs_dir, command=_command())
    print(f"wrote {args.models_dir}/{card['name']}: test {card['metrics']['test']}")
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
    print(f"wrote {args.models_dir}/{card['name']}: test {card['metrics']['test']}")
    return 0
