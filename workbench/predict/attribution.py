"""Per-atom attributions: gradient × input for GINs, atom occlusion for fingerprint models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from workbench.featurizers import mol_to_graph
from workbench.featurizers.graph_batch import GraphBatch
from workbench.models.builders import BaselineEnsemble, TorchEnsemble
from workbench.models.builders.tabular import TabularEnsemble
from workbench.nn.heads import mean_pool
from workbench.predict.inference import LoadedModel

__all__ = ["Attribution", "atom_attributions"]

METHODS = {
    "gradient_x_input": "gradient × input on the atom embeddings (summed over features, averaged over the ensemble)",
    "atom_occlusion": "atom occlusion: the change in prediction when the fingerprint bits that need the atom are "
    "removed (Riniker & Landrum similarity maps)",
    "mixed": "the mean over the model's components of atom occlusion (fingerprint components) and gradient × input "
    "(the GIN component)",
}


@dataclass(frozen=True)
class Attribution:
    """One weight per atom (positive: pushes the prediction up) and the method that made it."""

    weights: np.ndarray
    method: str

    @property
    def description(self) -> str:
        return METHODS[self.method]


def atom_attributions(model: LoadedModel, mol: Chem.Mol, task: int = 0) -> Attribution:
    """Attribute one task's prediction to the atoms of ``mol`` (atom order of ``mol``)."""
    arch = model.checkpoint.architecture
    if arch == "gin":
        return Attribution(_gradient_x_input(model.predictor, mol, task), "gradient_x_input")
    if isinstance(model.predictor, TabularEnsemble):  # a user's model: each component its own way, then the mean
        return _tabular_attribution(model.name, model.predictor, mol, task)
    if isinstance(model.predictor, BaselineEnsemble):
        p = model.predictor
        return Attribution(_occlusion(p.predict_fingerprints, p.n_bits, p.radius, mol, task), "atom_occlusion")
    if arch == "feature_mlp":
        params = model.checkpoint.card.featurizer.params
        predictor: TorchEnsemble = model.predictor

        def predict_fingerprints(x: np.ndarray) -> np.ndarray:
            batch = torch.from_numpy(x.astype(np.float32)).to(predictor.device)
            with torch.inference_mode():
                return np.stack([predictor.transform(m(batch).float().cpu().numpy()) for m in predictor.members])

        bits, radius = int(params.get("n_bits", 2048)), int(params.get("radius", 2))
        return Attribution(_occlusion(predict_fingerprints, bits, radius, mol, task), "atom_occlusion")
    raise ValueError(f"no attribution method for architecture '{arch}'")


def _tabular_attribution(name: str, p: TabularEnsemble, mol: Chem.Mol, task: int) -> Attribution:
    """Occlusion of a component's Morgan part (descriptors kept), gradient × input of a GIN component; averaged
    over the components that have one (a component on descriptors or MiniMol alone has none)."""
    weights, methods = [], []
    for c, component in enumerate(p.components):
        if component.features is None:
            members = [m for (_, t), m in sorted(component.members.items()) if t == task]
            cpu = torch.device("cpu")  # regression outputs back in task units; classification stays in logits
            weights.append(np.mean([m.std * _gin_gradient_x_input(m.model, mol, 0, cpu) for m in members], axis=0))
            methods.append("gradient_x_input")
            continue
        part = p.morgan_part(c)
        if part is None:
            continue
        full = component.features.transform([mol])[0][0]
        predict = lambda x, c=c: p.predict_component(c, x)  # noqa: E731
        weights.append(_occlusion(predict, *part, mol, task, full=full))
        methods.append("atom_occlusion")
    if not weights:
        inputs = ", ".join(c.features.name for c in p.components if c.features is not None)
        raise ValueError(f"'{name}' reads no Morgan fingerprint or graph ({inputs}): no per-atom attribution")
    method = methods[0] if len(set(methods)) == 1 else "mixed"
    return Attribution(np.mean(weights, axis=0), method)


def _gin_gradient_x_input(net: torch.nn.Module, mol: Chem.Mol, task: int, device: torch.device) -> np.ndarray:
    """Gradient × input of one GINPredictor's output ``task`` with respect to the atom embeddings."""
    batch = GraphBatch.from_graphs([mol_to_graph(mol)]).to(device)
    with torch.enable_grad():
        h0 = net.gnn.embed_atoms(batch.x).detach().requires_grad_(True)
        nodes = net.gnn(batch.x, batch.edge_index, batch.edge_attr, h0=h0)
        out = net.graph_pred_linear(mean_pool(nodes, batch.batch, 1))[0, task]
        (grad,) = torch.autograd.grad(out, h0)
    return (grad * h0).sum(dim=1).detach().cpu().numpy()


def _gradient_x_input(predictor: TorchEnsemble, mol: Chem.Mol, task: int) -> np.ndarray:
    members = [m.model for m in predictor.members]
    return np.mean([_gin_gradient_x_input(net, mol, task, predictor.device) for net in members], axis=0)


def _occlusion(
    predict_fingerprints: Callable[[np.ndarray], np.ndarray],
    n_bits: int,
    radius: int,
    mol: Chem.Mol,
    task: int,
    full: np.ndarray | None = None,
) -> np.ndarray:
    """Occlude each atom's Morgan bits; ``full`` is the model's whole input row when it is more than the bits
    (its first ``n_bits`` columns are the fingerprint, bits or counts: occluded columns become 0)."""
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    info = rdFingerprintGenerator.AdditionalOutput()
    info.AllocateBitInfoMap()
    bits = np.array(gen.GetFingerprintAsNumPy(mol, additionalOutput=info), dtype=np.float32)
    full = bits if full is None else np.asarray(full, dtype=np.float32)
    # atoms covered by each environment that sets a bit
    needs: dict[int, list[set[int]]] = {}
    for bit, envs in info.GetBitInfoMap().items():
        for center, radius in envs:
            atoms = {center}
            if radius:
                for b in Chem.FindAtomEnvironmentOfRadiusN(mol, radius, center):
                    bond = mol.GetBondWithIdx(b)
                    atoms |= {bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()}
            needs.setdefault(bit, []).append(atoms)
    rows = [full]
    for atom in range(mol.GetNumAtoms()):
        occluded = full.copy()
        for bit, envs in needs.items():
            if all(atom in env for env in envs):  # every environment setting the bit uses this atom
                occluded[bit] = 0
        rows.append(occluded)
    preds = predict_fingerprints(np.stack(rows)).mean(axis=0)[:, task]
    return preds[0] - preds[1:]
