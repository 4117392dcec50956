"""``workbench train pretrain``: self-supervised GIN pretraining on the corpus (registered under ``train``)."""

from __future__ import annotations

import argparse
import shlex
import sys

__all__ = ["register"]


def register(verbs: argparse._SubParsersAction) -> None:
    """Add ``pretrain`` to the ``train`` verb's sub-commands."""
    pt = verbs.add_parser(
        "pretrain",
        help="pretrain a GIN encoder on the corpus (AttrMask, GraphMVP, Mole-BERT), resumable; ships "
        "models/encoders/<method>",
        description="Self-supervised pretraining on the corpus built by `workbench data corpus`. Defaults are "
        "pretrain-gnns' AttrMask recipe (mask rate 0.15, batch 256, Adam 1e-3, GIN 5x300, no dropout, JK last). "
        "The run folder (<runs-dir>/pretrain/<name>) holds loss.csv, progress.json, cost.json and the resumable "
        "state: run the same command again to resume an interrupted run.",
    )
    pt.add_argument("--method", default="attrmask", choices=["attrmask", "graphmvp", "molebert"])
    pt.add_argument("--corpus", help="corpus folder or file (default <WORKBENCH_CACHE_DIR>/corpus/corpus.csv)")
    pt.add_argument("--molecules", type=int, help="train on a seeded sample of this many corpus molecules")
    pt.add_argument("--seed", type=int, default=0, help="sample, initialization, batch order and masks (default 0)")
    pt.add_argument("--epochs", type=int, default=100, help="epochs (default 100, pretrain-gnns')")
    pt.add_argument("--batch-size", type=int, default=256)
    pt.add_argument("--lr", type=float, default=1e-3)
    pt.add_argument("--mask-rate", type=float, default=0.15)
    mvp = pt.add_argument_group("graphmvp", "GraphMVP (2D GIN + 3D SchNet); needs `workbench data conformers` first")
    mvp.add_argument("--conformers", type=int, default=5, help="the conformer cache to use (default 5)")
    mvp.add_argument("--cl-loss", default="ebm_nce", choices=["ebm_nce", "infonce"], help="contrastive loss")
    mvp.add_argument("--temperature", type=float, default=0.1, help="contrastive temperature (default 0.1)")
    mvp.add_argument("--beta", type=float, default=1.0, help="KL weight of the reconstruction (default 1)")
    mvp.add_argument("--alpha-1", type=float, default=1.0, help="contrastive weight (default 1)")
    mvp.add_argument("--alpha-2", type=float, default=1.0, help="generative weight (default 1)")
    mvp.add_argument("--schnet-lr-scale", type=float, default=0.1, help="SchNet learning-rate factor (0.1)")
    mb = pt.add_argument_group(
        "molebert",
        "Mole-BERT: a VQ-VAE tokenizer stage (--tokenizer-epochs) before --epochs of masked atom modelling "
        "(--mask-rate) and triplet masked contrast (--mask-rate2; NT-Xent at --temperature)",
    )
    mb.add_argument("--tokenizer-epochs", type=int, default=60, help="tokenizer stage epochs (default 60)")
    mb.add_argument(
        "--codebook-split", type=int, nargs=4, default=[377, 55, 54, 26], metavar=("C", "N", "O", "OTHERS"),
        help="codes per atom family (default 377 55 54 26: 512)",
    )  # fmt: skip
    mb.add_argument("--commitment-cost", type=float, default=0.25, help="VQ commitment weight beta (default 0.25)")
    mb.add_argument("--mask-rate2", type=float, default=0.30, help="mask rate of the second view (default 0.30)")
    mb.add_argument("--triplet-margin", type=float, default=0.0, help="triplet margin (default 0, released code)")
    mb.add_argument("--triplet-weight", type=float, default=0.1, help="triplet weight lambda (default 0.1)")
    pt.add_argument("--num-layer", type=int, default=5)
    pt.add_argument("--emb-dim", type=int, default=300)
    pt.add_argument("--device", default="cpu", help="cpu or cuda")
    pt.add_argument("--threads", type=int, help="torch CPU threads")
    amp = pt.add_mutually_exclusive_group()
    amp.add_argument("--amp", dest="amp", action="store_true", default=None, help="bfloat16 autocast (default: CUDA)")
    amp.add_argument("--no-amp", dest="amp", action="store_false", help="full float32 even on CUDA")
    pt.add_argument("--weights-dtype", default="float16", choices=["float16", "float32"], help="shipped weights")
    pt.add_argument("--save-every", type=float, default=300.0, help="seconds between resumable saves (default 300)")
    pt.add_argument("--name", help="run folder name (default <method>-<molecules or all>-seed<seed>)")
    pt.add_argument("--runs-dir", default="runs")
    pt.add_argument("--out", help="encoder folder (default models/encoders/<method>)")
    pt.add_argument("--stop-after", type=int, metavar="STEPS", help="stop (resumably) after this many steps")
    pt.set_defaults(func=run_pretrain)


def run_pretrain(args: argparse.Namespace) -> int:
    from workbench.train.pretrain import PretrainConfig, PretrainInterrupted, pretrain

    cfg = PretrainConfig(
        method=args.method,
        corpus=args.corpus,
        molecules=args.molecules,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        num_layer=args.num_layer,
        emb_dim=args.emb_dim,
        mask_rate=args.mask_rate,
        conformers=args.conformers,
        cl_loss=args.cl_loss,
        temperature=args.temperature,
        beta=args.beta,
        alpha_1=args.alpha_1,
        alpha_2=args.alpha_2,
        schnet_lr_scale=args.schnet_lr_scale,
        tokenizer_epochs=args.tokenizer_epochs,
        codebook_split=tuple(args.codebook_split),
        commitment_cost=args.commitment_cost,
        mask_rate2=args.mask_rate2,
        triplet_margin=args.triplet_margin,
        triplet_weight=args.triplet_weight,
        device=args.device,
        threads=args.threads,
        amp=args.amp,
        weights_dtype=args.weights_dtype,
        save_every_s=args.save_every,
        name=args.name,
    )
    command = shlex.join(["workbench", *sys.argv[1:]]) if sys.argv[1:2] == ["train"] else ""
    try:
        card = pretrain(
            cfg,
            runs_dir=args.runs_dir,
            out_dir=args.out,
            command=command or _command(args),
            log=_log,
            stop_after=args.stop_after,
        )
    except PretrainInterrupted as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 130
    training = card["training"]
    print(
        f"wrote {args.out or f'models/encoders/{cfg.method}'}: {training['steps']:,} steps, "
        f"{training['molecules_per_s']} molecules/s, {training['wall_time_s']:.0f} s"
    )
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _command(args: argparse.Namespace) -> str:
    """The command line as given (sys.argv), or rebuilt from the arguments when called in-process."""
    parts = ["workbench", "train", "pretrain"]
    for flag, value in vars(args).items():
        if flag in ("func", "verb", "train_verb") or value is None or value is False:
            continue
        values = [str(v) for v in value] if isinstance(value, list) else [] if value is True else [str(value)]
        parts += [f"--{flag.replace('_', '-')}", *values]
    return shlex.join(parts)
