"""ADMET-AI's 41 endpoints: a one-off import of its Chemprop checkpoints, and their predictor.

``workbench import admet-ai`` reads the ten Chemprop 2 checkpoints shipped in the
``admet-ai`` package (a 5-member classification ensemble for 31 endpoints and a
5-member regression ensemble for 10), checks that every model is the plain
architecture :class:`workbench.nn.chemprop.ChempropMPNN` re-implements, stacks
each ensemble's weights and writes ``models/admet_ai/`` (two safetensors files and
a card). The ``.pt`` files are read with ``torch.load(weights_only=True)``: every
non-tensor class in them is mapped to an inert placeholder, so no code from the
file (or from chemprop) runs, and chemprop need not be installed. Inference then
never touches the package: :func:`workbench.models.builders.chemprop.build_chemprop_mpnn` loads the verified
safetensors and the featurizer in :mod:`workbench.featurizers.chemprop`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch
from safetensors.torch import save_file

from workbench.hashing import sha256_file
from workbench.models import CheckpointError, ModelCard, write_card
from workbench.models.builders.chemprop import ARCHITECTURE

__all__ = ["admet_ai_package_dir", "import_admet_ai", "read_chemprop_pt"]

PARTS = (("classification", "admet_classification"), ("regression", "admet_regression"))
_EXPECTED_CLASSES = {
    "message_passing": "chemprop.nn.message_passing.base.BondMessagePassing",
    "agg": "chemprop.nn.agg.NormAggregation",
    "activation": "torch.nn.modules.activation.ReLU",
    "classification": "chemprop.nn.predictors.BinaryClassificationFFN",
    "regression": "chemprop.nn.predictors.RegressionFFN",
}


def admet_ai_package_dir() -> Path:
    """Folder of the installed ``admet_ai`` package (its ``resources/`` hold models and tables)."""
    import importlib.util

    spec = importlib.util.find_spec("admet_ai")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the admet-ai package is not installed (pip install --no-deps admet-ai==2.0.1)")
    return Path(next(iter(spec.submodule_search_locations)))


class _Inert:
    """Stands in for any class named in a checkpoint; records its name and state, runs nothing."""

    qualified_name = "?"

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        self.__dict__["state"] = state


def read_chemprop_pt(path: str | Path) -> dict:
    """Read a chemprop 2 ``.pt`` checkpoint without running code from it.

    Returns:
        ``{"state_dict", "hyper_parameters", "output_columns"}``; classes in the hyper-parameters
        are :class:`_Inert` subclasses whose ``qualified_name`` says what they were.
    """
    names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    allowed = []
    for name in names:
        if name == "lightning.fabric.utilities.data.AttributeDict":
            allowed.append((dict, name))  # a plain dict subclass: read as dict
        else:
            allowed.append((type(name.rsplit(".", 1)[-1], (_Inert,), {"qualified_name": name}), name))
    with torch.serialization.safe_globals(allowed):
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or "state_dict" not in data or "hyper_parameters" not in data:
        raise CheckpointError(f"{path} is not a chemprop 2 checkpoint")
    return data


def _class_name(obj: object) -> str:
    if isinstance(obj, type) and issubclass(obj, _Inert):
        return obj.qualified_name
    return type(obj).qualified_name if isinstance(obj, _Inert) else repr(obj)


def _config_of(data: dict, part: str, path: Path) -> dict:
    """Our :class:`ChempropMPNN` config from a chemprop checkpoint, refusing anything it does not reproduce."""
    from workbench.featurizers.chemprop import ATOM_DIM, BOND_DIM

    hp = data["hyper_parameters"]
    mp, agg, pred = hp["message_passing"], hp["agg"], hp["predictor"]
    problems = []
    checks = [
        (_class_name(mp["cls"]) == _EXPECTED_CLASSES["message_passing"], "message passing is not BondMessagePassing"),
        (_class_name(mp["activation"]) == _EXPECTED_CLASSES["activation"], "activation is not ReLU"),
        (_class_name(pred["activation"]) == _EXPECTED_CLASSES["activation"], "predictor activation is not ReLU"),
        (_class_name(agg["cls"]) == _EXPECTED_CLASSES["agg"], "aggregation is not NormAggregation"),
        (_class_name(pred["cls"]) == _EXPECTED_CLASSES[part], f"predictor is not {_EXPECTED_CLASSES[part]}"),
        (not mp["bias"] and not mp["undirected"] and not mp["d_vd"], "bias/undirected/atom descriptors"),
        (mp["d_v"] == ATOM_DIM and mp["d_e"] == BOND_DIM, "featurizer sizes differ from chemprop V2 defaults"),
        (not hp["batch_norm"] and hp["X_d_transform"] is None, "batch norm or extra descriptors"),
        (mp["V_d_transform"] is None, "atom descriptor transform"),
        (isinstance(pred["hidden_dim"], int), "per-layer hidden sizes"),
    ]
    problems = [msg for ok, msg in checks if not ok]
    if problems:
        raise CheckpointError(f"{path}: not a plain Chemprop MPNN this workbench re-implements: {problems}")
    return {
        "n_tasks": int(pred["n_tasks"]),
        "task_type": part,
        "d_v": int(mp["d_v"]),
        "d_e": int(mp["d_e"]),
        "d_h": int(mp["d_h"]),
        "depth": int(mp["depth"]),
        "ffn_hidden": int(pred["hidden_dim"]),
        "ffn_layers": int(pred["n_layers"]),
        "norm": float(agg["norm"]),
    }


def _task_table(package: Path) -> dict[str, dict]:
    with open(package / "resources" / "data" / "admet.csv", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _published_metric(value: str) -> dict | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return {"mean": number, "std": None, "per_seed": []} if math.isfinite(number) else None


def import_admet_ai(
    models_dir: str | Path = "models", name: str = "admet_ai", package_dir: str | Path | None = None
) -> ModelCard:
    """Convert the admet-ai package's Chemprop ensembles into ``<models_dir>/<name>/``; returns the card."""
    from importlib.metadata import version

    # featurizers and networks are imported here, not with this module (importing workbench.models stays light)
    from workbench.featurizers import FEATURIZER_VERSION
    from workbench.featurizers.chemprop import CHEMPROP_FEATURIZER
    from workbench.nn.chemprop import ChempropMPNN

    package = Path(package_dir) if package_dir else admet_ai_package_dir()
    folder = Path(models_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    info = _task_table(package)
    parts, files, tasks, sources = [], [], [], {}
    published: dict[str, dict] = {}
    for part, subdir in PARTS:
        paths = sorted((package / "resources" / "models" / subdir).glob("*.pt"))
        if not paths:
            raise FileNotFoundError(f"no .pt checkpoints in {package / 'resources' / 'models' / subdir}")
        datas = [read_chemprop_pt(p) for p in paths]
        configs = [_config_of(d, part, p) for d, p in zip(datas, paths, strict=True)]
        columns = [list(d["output_columns"]) for d in datas]
        if any(c != configs[0] for c in configs) or any(c != columns[0] for c in columns):
            raise CheckpointError(f"the {part} members differ in shape or tasks")
        config = {"n_models": len(datas), **configs[0]}
        stacked = ChempropMPNN.stack_chemprop_states([d["state_dict"] for d in datas], config["ffn_layers"])
        ChempropMPNN(**config).load_state_dict(stacked)  # shapes and keys check
        file = f"{part}.safetensors"
        save_file(
            stacked, str(folder / file), metadata={"format": "workbench"}
        )  # one key: a map is written in random order
        files.append({"file": file, "format": "safetensors", "part": part})
        parts.append({"name": part, "file": file, "config": config})
        sources.update({f"{subdir}/{p.name}": sha256_file(p) for p in paths})
        for task in columns[0]:
            row = info.get(task, {})
            entry = {"name": task, "type": part}
            if part == "regression" and row.get("units"):
                entry["units"] = row["units"]
            if row.get("name"):
                entry["title"] = row["name"]
            if row.get("category"):
                entry["category"] = row["category"]
            tasks.append(entry)
            for column, metric in (("AUROC", "roc_auc"), ("AUPRC", "prc_auc"), ("R^2", "r2"), ("MAE", "mae")):
                value = _published_metric(row.get(column, ""))
                if value is not None:
                    published.setdefault(task, {})[metric] = value
    n_members = {p["config"]["n_models"] for p in parts}
    if len(n_members) != 1:
        raise CheckpointError("the classification and regression ensembles have different sizes")
    package_version = version("admet-ai")
    card = {
        "name": name,
        "description": f"ADMET-AI {package_version}: Chemprop MPNN ensembles ({n_members.pop()} members) for "
        f"{len(tasks)} ADMET endpoints from the Therapeutics Data Commons; weights converted from the admet-ai "
        "package and run by the workbench's own Chemprop re-implementation.",
        "group": "ADMET",
        "architecture": {"type": ARCHITECTURE, "config": {"parts": parts}},
        "featurizer": {
            "name": CHEMPROP_FEATURIZER,
            "version": FEATURIZER_VERSION,
            "params": {"atom_features": "v2", "bond_features": "multi_hot"},
        },
        "tasks": tasks,
        "data": {
            "dataset": "TDC ADMET data sets (ADMET-AI training data, not shipped)",
            "sha256": "unknown",
            "reference": "Swanson et al., Bioinformatics 2024; https://github.com/swansonk14/admet_ai",
        },
        "split": {"kind": "external", "note": "trained by the ADMET-AI authors; metrics are theirs (admet.csv)"},
        "seeds": [],
        "metrics": {f"published:{task}": metrics for task, metrics in published.items()},
        "source": {"package": "admet-ai", "version": package_version, "files_sha256": sources},
        "command": f"workbench import admet-ai --models-dir {models_dir} --name {name}",
    }
    return write_card(folder, card, files)
