"""Ship a pretrained encoder: ``models/encoders/<method>/`` with the GIN's ``gnn.*`` weights and a card.

The card is a regular model card (the registry lists it, group ``Pretrained encoders``) whose
architecture ``gin_encoder`` has no predictor builder: it is an initialization for
``workbench train finetune --init models/encoders/<method>``, not a property model. It records the
corpus and its sha256, the sample, the recipe, epochs, steps, molecule-epochs, wall time,
molecules/s, the device and the exact command. Given the run's ``loss.csv``, it also writes
``loss_curve.csv`` (means per 50 steps) and records it (file, sha256) under the card's ``training.loss_curve``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save_file

from workbench.data.corpus_files import CorpusInfo
from workbench.encoders.curves import write_loss_curve
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.models import FORMAT_VERSION, write_card
from workbench.train.pretrain.config import PretrainConfig

__all__ = ["ENCODER_ARCHITECTURE", "ENCODER_FILE", "ENCODER_GROUP", "encoder_state", "ship_encoder"]

ENCODER_ARCHITECTURE = "gin_encoder"
ENCODER_GROUP = "Pretrained encoders"
ENCODER_FILE = "encoder.safetensors"


def encoder_state(state: Mapping[str, torch.Tensor], dtype: str) -> dict[str, torch.Tensor]:
    """The ``gnn.*`` entries of a pretraining model's state, floating-point ones cast to ``dtype``."""
    target = getattr(torch, dtype)
    return {
        k: (v.to(target) if v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in state.items()
        if k.startswith("gnn.")
    }


def ship_encoder(
    folder: Path,
    state: Mapping[str, torch.Tensor],
    cfg: PretrainConfig,
    *,
    method_title: str,
    task: str,
    recipe: Mapping[str, object],
    corpus: CorpusInfo,
    parent: CorpusInfo,
    result: Mapping[str, object],
    command: str,
    loss_csv: Path | None = None,
) -> dict:
    """Write the encoder weights, the loss curve (when ``loss_csv`` exists) and card; returns the card (a dict)."""
    folder.mkdir(parents=True, exist_ok=True)
    curve = write_loss_curve(loss_csv, folder) if loss_csv is not None and Path(loss_csv).is_file() else None
    weights = encoder_state(state, cfg.weights_dtype)
    meta = {"format": "workbench", "format_version": str(FORMAT_VERSION)}
    save_file(weights, str(folder / ENCODER_FILE), metadata=meta)
    last = result.get("last_epoch", {})
    metrics = {
        name: {"mean": float(last[name]), "std": None, "per_seed": [float(last[name])]}
        for name in ("loss", "accuracy")
        if isinstance(last.get(name), int | float)
    }
    sample = corpus.report.get("sample") if corpus.path != parent.path else None
    card = {
        "name": cfg.method,
        "group": ENCODER_GROUP,
        "description": (
            f"GIN ({cfg.num_layer}×{cfg.emb_dim}, JK {cfg.jk}) pretrained with {method_title} on "
            f"{result['molecules']:,} molecules of the workbench pretraining corpus for {cfg.epochs} epochs; "
            f"encoder weights only (gnn.*, {cfg.weights_dtype}); start a fine-tuning with --init {folder}"
        ),
        "architecture": {
            "type": ENCODER_ARCHITECTURE,
            "config": {
                "num_layer": cfg.num_layer,
                "emb_dim": cfg.emb_dim,
                "drop_ratio": cfg.drop_ratio,
                "jk": cfg.jk,
                "weights_dtype": cfg.weights_dtype,
                "keys": "gnn.* (pretrain-gnns GNN layout; load with GINPredictor.load_encoder)",
            },
        },
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": task, "type": "classification"}],
        "data": {
            "dataset": "pretraining_corpus",
            "built_by": "workbench data corpus",
            "file": parent.path.name,
            "sha256": parent.sha256,
            "molecules": int(result["molecules"]),
            "corpus_molecules": parent.molecules,
            **({"subset": {"file": corpus.path.name, "sha256": corpus.sha256, **sample}} if sample else {}),
            "unfeaturizable_rows": int(result.get("unfeaturizable", 0)),
        },
        "split": {"kind": "none", "note": "self-supervised pretraining: every sampled corpus molecule is used"},
        "seeds": [cfg.seed],
        "metrics": {"train_last_epoch": metrics} if metrics else {},
        "training": {
            "method": cfg.method,
            "recipe": dict(recipe),
            "epochs": cfg.epochs,
            "steps": result["steps"],
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "weight_decay": cfg.weight_decay,
            "optimizer": "Adam",
            "molecule_epochs": result["molecule_epochs"],
            "molecules_seen": result["molecules_seen"],
            "wall_time_s": result["wall_time_s"],
            "train_time_s": result["train_time_s"],
            "molecules_per_s": result["molecules_per_s"],
            "devices": result["devices"],
            "threads": cfg.threads,
            "amp": result["amp"],
            "segments": result["segments"],
            "config_sha256": result["config_sha256"],
            "history": result["history"],
            **({"loss_curve": curve} if curve else {}),
        },
        "command": command,
    }
    written = write_card(folder, card, [{"file": ENCODER_FILE, "format": "safetensors", "seed": cfg.seed}])
    return written.to_dict() if hasattr(written, "to_dict") else dict(written)
