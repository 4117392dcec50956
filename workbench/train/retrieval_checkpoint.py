"""Write a trained dual encoder as a checkpoint: weights, card, corpus description features, and the reference files
(approved-drug embeddings, the score reference) stored beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors.torch import save_file

from workbench.data.splits import Split
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.models import ModelCard, write_card
from workbench.models.store import cast_floating
from workbench.nn.dual_encoder import DualEncoder
from workbench.nn.text_backbone import fine_tuned_spec
from workbench.retrieval.corpus import RetrievalCorpus
from workbench.train.encoder_init import resolve_init_encoder

if TYPE_CHECKING:
    from workbench.train.retrieval import RetrievalConfig

__all__ = ["CORPUS_FILE", "WEIGHTS_DTYPE", "save_retrieval_checkpoint", "ship_library", "ship_score_reference"]

CORPUS_FILE = "corpus_text_features.safetensors"
#: How the shipped checkpoint stores its floating-point weights (the card's metrics are of these weights).
WEIGHTS_DTYPE = "float16"


def save_retrieval_checkpoint(
    model: DualEncoder,
    corpus: RetrievalCorpus,
    split: Split,
    cfg: RetrievalConfig,
    metrics: dict[str, dict],
    *,
    models_dir: str | Path = "models",
    command: str = "",
    history: dict | None = None,
    weights_dtype: str = WEIGHTS_DTYPE,
) -> ModelCard:
    """Write ``models_dir/<name>/``: the weights (GIN, both projections, fine-tuned text layers if any) and the card.

    The floating-point weights are stored as ``weights_dtype`` (recorded in the card's architecture config) and
    ``model`` is rounded to them in place, so it is the model the checkpoint holds. With fine-tuned text layers
    the stored corpus description features are those of the fine-tuned encoder (as stored).
    """
    state = cast_floating(model.state_dict(), weights_dtype)
    model.load_state_dict(state)  # the parameters keep their dtype and take the stored values
    gin = model.gnn
    losses = ["symmetric InfoNCE" if not cfg.s2p else f"S2P (tau1={cfg.tau1}, tau2={cfg.tau2})"]
    if cfg.augment:
        losses.append(f"augmentation (p={cfg.p}, k={cfg.k})")
    if cfg.er:
        losses.append(f"expertise reconstruction (alpha={cfg.alpha})")
    init_info = (history or {}).get("init_encoder")
    if init_info is None and cfg.init_encoder:
        init_info = resolve_init_encoder(cfg.init_encoder)[1]
    if gin is None:
        gin_text = ""
    elif init_info is not None:
        gin_text = (
            f"GIN {gin.num_layer}x{gin.emb_dim} initialised from the shipped {init_info['checkpoint']} encoder "
            f"({init_info['file']}, sha256 {init_info['sha256'][:12]}…)"
        )
    elif cfg.init:
        gin_text = f"GIN {gin.num_layer}x{gin.emb_dim} initialised from {cfg.init}"
    else:
        gin_text = f"GIN {gin.num_layer}x{gin.emb_dim} trained from scratch"
    tower_texts = {
        "gin": gin_text,
        "minimol": f"an MLP ({model.hidden} hidden) over the frozen 512-d MiniMol embedding",
        "ecfp4+rdkit2d": f"an MLP ({model.hidden} hidden) over ECFP4 bits + RDKit 2D descriptors "
        "(normalization fitted on the training molecules)",
    }
    mol_text = " + ".join(tower_texts[t] for t in model.towers)
    if len(model.towers) > 1:
        mol_text = f"late fusion (mean of the branch cosines) of {' and '.join(tower_texts[t] for t in model.towers)}"
    package = corpus.text_spec.get("package", corpus.text_spec["kind"])
    text_spec = corpus.text_spec
    trained_parts = (["gnn.*", "mol_proj.*"] if gin is not None else []) + ["text_proj.*"]
    if model.feature_towers:
        trained_parts.append("feature_towers.*")
    if len(model.towers) > 1:
        trained_parts.append("text_proj_2.*")
    all_features = corpus.all_text_features
    if model.text_top is not None:
        top = model.text_top
        text_spec = fine_tuned_spec(corpus.text_spec, top, cfg.text_lr)
        text_text = f"{package} text encoder with its top {len(top.layers)} layer(s) fine-tuned"
        trained_parts.append("text_top.*")
        if corpus.all_text_features is not None:
            if corpus.text_states is None:
                raise ValueError("the model fine-tunes text layers: attach_text_states(corpus, ...) first")
            model.eval()
            with torch.no_grad():
                everything = np.arange(len(corpus.text_states))
                all_features = top.encode(corpus.text_states, everything).float().cpu().numpy()
    else:
        text_text = f"frozen {package} text encoder"
    card = {
        "name": cfg.name,
        "group": "Retrieval",
        "description": (
            f"AMOLE-style molecule-text dual encoder: {mol_text} + {text_text} with trained "
            f"projection heads into a shared {model.out_dim}-d space; trained on ChEBI-20 with " + ", ".join(losses)
        ),
        "architecture": {
            "type": "dual_encoder",
            "config": {
                "text_dim": model.text_dim,
                "proj_dim": model.proj_dim,
                **(
                    {"num_layer": gin.num_layer, "emb_dim": gin.emb_dim, "jk": gin.jk}
                    if gin is not None
                    else {"jk": "last"}
                ),
                "drop_ratio": cfg.drop_ratio if gin is None else gin.drop_ratio,
                "towers": list(model.towers),
                **(
                    {
                        "feature_sets": {t: corpus.feature_params[t] for t in model.feature_dims},
                        "feature_dims": dict(model.feature_dims),
                        "hidden": model.hidden,
                    }
                    if model.feature_dims
                    else {}
                ),
                "text_backbone": text_spec,
                "trained_parts": trained_parts,
                "weights_dtype": weights_dtype,
            },
        },
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "molecule_text_retrieval", "type": "classification"}],
        "data": {
            "dataset": "chebi20",
            "sha256": corpus.data_sha256,
            "pairs": len(corpus),
            "dropped": len(corpus.dropped),
            "er_molecules": int((corpus.partners() >= 0).sum()),
        },
        "split": split.describe(),
        "seeds": [cfg.seed],
        "metrics": {
            part: {name: {"mean": v, "std": None, "per_seed": [v]} for name, v in values.items()}
            for part, values in metrics.items()
        },
        "command": command,
        "training": {**asdict(cfg), "history": history or {}},
    }
    if init_info is not None:
        card["init_encoder"] = {k: v for k, v in init_info.items()}
    folder = Path(models_dir) / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / f"seed{cfg.seed}.safetensors"), metadata={"format": "workbench"})
    files = [{"file": f"seed{cfg.seed}.safetensors", "format": "safetensors", "seed": cfg.seed, "role": "model"}]
    if all_features is not None:
        # text-encoder features of every corpus description, so `describe` needs no text-encoder pass over them
        corpus_tensors = {
            "cid": torch.from_numpy(np.array(corpus.all_cids, dtype=np.int64)),
            "features": torch.from_numpy(np.ascontiguousarray(all_features)).to(torch.float16),
        }
        save_file(corpus_tensors, str(folder / CORPUS_FILE), metadata={"dataset": "chebi20"})
        files.append({"file": CORPUS_FILE, "format": "safetensors", "seed": None, "role": "corpus_text_features"})
    return write_card(folder, card, files)


def ship_library(card: ModelCard, folder: Path, log: Callable[[str], None]) -> ModelCard:
    """Store the shipped libraries' embeddings (approved drugs, ChEBI-20) with the new checkpoint; a library whose
    data file is missing is skipped with a message."""
    from workbench.models import Checkpoint
    from workbench.retrieval.library import SHIPPED_LIBRARIES, store_library_embeddings
    from workbench.retrieval.model import clear_cache, load_retriever

    clear_cache()  # a retriever this process loaded from the folder before holds the weights just replaced
    retriever = load_retriever(Checkpoint(folder, card), device="cpu")
    for library in SHIPPED_LIBRARIES:
        try:
            card = store_library_embeddings(retriever, library)
        except FileNotFoundError as exc:
            log(f"no {library} library embeddings stored ({exc})")
    return card


def ship_score_reference(
    card: ModelCard, folder: Path, corpus: RetrievalCorpus, split: Split, log: Callable[[str], None]
) -> ModelCard:
    """Store the score reference (random-pair quantiles, validation class metrics) with the new checkpoint."""
    from workbench.models import Checkpoint
    from workbench.retrieval.calibration import store_score_reference
    from workbench.retrieval.model import load_retriever

    retriever = load_retriever(Checkpoint(folder, card), device="cpu")
    try:
        card = store_score_reference(retriever, corpus.frame, split.valid, part="valid", split=split.describe())
    except ValueError as exc:  # too few validation pairs to calibrate on
        log(f"no score reference stored ({exc})")
        return card
    summary = card.to_dict()["references"]
    log(f"stored the score reference ({len(summary)} reference files in the card)")
    return card
