"""A tiny fingerprint MLP trained inside the tests (classification + regression task)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from rdkit import Chem

from workbench.featurizers import ecfp_batch, featurizer_spec
from workbench.models import ModelCard, save_torch_checkpoint
from workbench.nn import FeatureMLP

N_BITS = 256


def tiny_molecules() -> list[str]:
    """Chains with and without nitrogen: task 1 = has N, task 2 = carbon count."""
    out = []
    for n in range(1, 9):
        chain = "C" * n
        out += [chain + "O", chain + "N", "N" + chain + "C(=O)O", chain + "Cl", "c1ccccc1" + chain]
    return out


def labels(smiles: list[str]) -> np.ndarray:
    y = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        has_n = float(any(a.GetSymbol() == "N" for a in mol.GetAtoms()))
        carbons = float(sum(a.GetSymbol() == "C" for a in mol.GetAtoms()))
        y.append([has_n, carbons])
    return np.array(y, dtype=np.float32)


def train_tiny_checkpoint(folder: Path, name: str = "tiny", seeds: tuple[int, ...] = (0, 1)) -> ModelCard:
    """Train one member per seed and save them as a checkpoint folder; returns the card."""
    smiles = tiny_molecules()
    x = torch.from_numpy(ecfp_batch([Chem.MolFromSmiles(s) for s in smiles], n_bits=N_BITS).astype(np.float32))
    y = torch.from_numpy(labels(smiles))
    mean, std = float(y[:, 1].mean()), float(y[:, 1].std())
    target = torch.stack([y[:, 0], (y[:, 1] - mean) / std], dim=1)
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = FeatureMLP(N_BITS, 2, hidden=32, n_layers=1, dropout=0.0)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(150):
            opt.zero_grad()
            out = model(x)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], target[:, 0])
            loss = loss + torch.nn.functional.mse_loss(out[:, 1], target[:, 1])
            loss.backward()
            opt.step()
        states.append(model.eval().state_dict())
    card = {
        "name": name,
        "description": "tiny test model",
        "group": "Test",
        "architecture": {
            "type": "feature_mlp",
            "config": {"in_dim": N_BITS, "n_tasks": 2, "hidden": 32, "n_layers": 1, "dropout": 0.0},
        },
        "featurizer": featurizer_spec("ecfp", n_bits=N_BITS, radius=2),
        "tasks": [
            {"name": "has_nitrogen", "type": "classification"},
            {"name": "carbons", "type": "regression", "units": "count"},
        ],
        "target_scaling": {"mean": [0.0, mean], "std": [1.0, std]},
        "data": {"dataset": "tiny", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": list(seeds),
        "metrics": {"test": {"roc_auc": {"mean": 1.0, "std": 0.0, "per_seed": [1.0] * len(seeds)}}},
        "command": "tests/tiny_model.py",
    }
    return save_torch_checkpoint(folder / name, card, states, list(seeds))
