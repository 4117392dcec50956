"""The pretraining loss curve stored with an encoder: ``loss_curve.csv`` (means per 50 steps), recorded in its card.

``workbench train pretrain`` writes it when it ships an encoder; for an encoder shipped before that,
``python -m workbench.encoders.curves ENCODER_FOLDER [RUN_FOLDER]`` adds it from the run's ``loss.csv``
(the run folder defaults to the one under ``runs/pretrain`` whose configuration sha256 the card records).
The card lists the file and its sha256 under ``training.loss_curve`` (a record of how the encoder was
trained, not a file inference reads), and :func:`loss_curve` refuses a file that no longer matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from workbench.hashing import sha256_file
from workbench.models import CARD_FILE, CheckpointError, ModelCard, load_card
from workbench.models.store import rewrite_card

__all__ = [
    "LOSS_CURVE_EVERY",
    "LOSS_CURVE_FILE",
    "add_loss_curve",
    "find_run",
    "loss_curve",
    "loss_curve_means",
    "main",
    "write_loss_curve",
]

LOSS_CURVE_FILE = "loss_curve.csv"
#: Steps averaged into one point of the stored curve.
LOSS_CURVE_EVERY = 50
#: Columns of a run's ``loss.csv`` that are counts or clocks, not curves.
_NOT_CURVES = ("step", "epoch", "masked_atoms", "molecules", "train_seconds")


def loss_curve_means(losses: pd.DataFrame, every: int = LOSS_CURVE_EVERY) -> pd.DataFrame:
    """Means of a per-step loss table over consecutive blocks of ``every`` steps.

    Returns one row per block: ``step`` and ``epoch`` of its last step, then the mean of ``loss`` and of
    each method metric (e.g. ``accuracy``); counts and clocks (molecules, seconds) are left out.
    """
    if every < 1:
        raise ValueError("every must be at least 1")
    if "step" not in losses.columns or "loss" not in losses.columns:
        raise ValueError("a loss table needs 'step' and 'loss' columns")
    curves = [c for c in losses.columns if c not in _NOT_CURVES]
    frame = losses.sort_values("step")
    block = (frame["step"].to_numpy() - 1) // every
    grouped = frame.groupby(block, sort=True)
    out = pd.DataFrame({"step": grouped["step"].max().to_numpy()})
    if "epoch" in frame.columns:
        out["epoch"] = grouped["epoch"].last().to_numpy()
    for column in curves:
        out[column] = grouped[column].mean().to_numpy()
    return out


def write_loss_curve(loss_csv: str | Path, folder: str | Path, every: int = LOSS_CURVE_EVERY) -> dict:
    """Write ``loss_curve.csv`` (means per ``every`` steps of ``loss_csv``) into ``folder``; its card record."""
    folder = Path(folder)
    curve = loss_curve_means(pd.read_csv(loss_csv), every)
    path = folder / LOSS_CURVE_FILE
    tmp = path.with_suffix(".tmp")
    curve.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(path)
    return {"file": LOSS_CURVE_FILE, "sha256": sha256_file(path), "every_steps": every, "points": len(curve)}


def add_loss_curve(folder: str | Path, run_folder: str | Path, every: int = LOSS_CURVE_EVERY) -> ModelCard:
    """Add the loss curve of ``run_folder/loss.csv`` to an already-shipped encoder and record it in its card."""
    folder, loss_csv = Path(folder), Path(run_folder) / "loss.csv"
    if not loss_csv.is_file():
        raise FileNotFoundError(f"{loss_csv} does not exist: give the run folder of this encoder")
    card = load_card(folder).to_dict()
    card["training"] = {**(card.get("training") or {}), "loss_curve": write_loss_curve(loss_csv, folder, every)}
    return rewrite_card(folder, card)


def find_run(folder: str | Path, runs_dir: str | Path = "runs") -> Path | None:
    """The run folder (``<runs_dir>/pretrain/<name>``) whose configuration sha256 the encoder's card records."""
    wanted = (load_card(folder).training or {}).get("config_sha256")
    root = Path(runs_dir) / "pretrain"
    if not wanted or not root.is_dir():
        return None
    for run in sorted(p for p in root.iterdir() if (p / "config.json").is_file()):
        try:
            if json.loads((run / "config.json").read_text()).get("sha256") == wanted:
                return run
        except (OSError, ValueError):
            continue
    return None


def loss_curve(folder: str | Path, every: int = LOSS_CURVE_EVERY) -> pd.DataFrame | None:
    """The loss curve of an encoder folder (its ``loss_curve.csv``) or of a run folder (means of its ``loss.csv``).

    Returns ``None`` when the folder has neither.

    Raises:
        CheckpointError: the encoder's ``loss_curve.csv`` does not match the sha256 its card records.
    """
    folder = Path(folder)
    stored = folder / LOSS_CURVE_FILE
    if stored.is_file():
        record = _card_record(folder)
        if record is not None and sha256_file(stored) != record.get("sha256"):
            raise CheckpointError(f"{stored} does not match the sha256 in its card; it will not be shown")
        return pd.read_csv(stored)
    run_log = folder / "loss.csv"
    if run_log.is_file():
        return loss_curve_means(pd.read_csv(run_log), every)
    return None


def _card_record(folder: Path) -> dict | None:
    if not (folder / CARD_FILE).is_file():
        return None
    record = (load_card(folder).training or {}).get("loss_curve")
    return record if isinstance(record, dict) else None


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.encoders.curves ENCODER_FOLDER [RUN_FOLDER]``: add the loss curve to a shipped encoder."""
    parser = argparse.ArgumentParser(
        prog="python -m workbench.encoders.curves",
        description="Write loss_curve.csv (means per 50 steps of the run's loss.csv) into a shipped encoder "
        "folder and record it in its card.",
    )
    parser.add_argument("encoder", help="encoder folder, e.g. models/encoders/attrmask")
    parser.add_argument(
        "run",
        nargs="?",
        help="its pretraining run folder, e.g. runs/pretrain/attrmask-250000-seed0 (default: the folder under "
        "runs/pretrain whose configuration sha256 the card records)",
    )
    parser.add_argument("--every", type=int, default=LOSS_CURVE_EVERY, help="steps per point (default 50)")
    args = parser.parse_args(argv)
    try:
        run = args.run or find_run(args.encoder)
        if run is None:
            print(f"error: no run folder under runs/pretrain matches {args.encoder}; give it", file=sys.stderr)
            return 1
        card = add_loss_curve(args.encoder, run, args.every)
    except (OSError, ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    record = (card.training or {})["loss_curve"]
    print(f"wrote {Path(args.encoder) / LOSS_CURVE_FILE} ({record['points']} points, sha256 {record['sha256'][:12]}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
