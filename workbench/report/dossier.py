"""Everything known about one molecule, collected into a typed :class:`Dossier` (rendered by :mod:`.html`).

Each section is built on its own: a section that fails leaves one sentence in ``Dossier.problems`` saying why,
and the other sections are still built. Partial gaps (one model without percentiles, say) go to
``Dossier.notes`` under the section's key.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from workbench import __version__, chem
from workbench.data import DataUnavailableError
from workbench.models import CheckpointError, ModelCard
from workbench.predict.inference import LoadedModel, list_models, load_model
from workbench.report.images import heatmap_png, projection_svg

__all__ = [
    "CONFORMER_SEED",
    "SECTIONS",
    "AttributionMap",
    "ConformerImage",
    "Dossier",
    "ModelVersion",
    "Neighbours",
    "Prediction",
    "build_dossier",
    "default_models",
    "workbench_version",
]

#: Section keys in page order, with their headings.
SECTIONS = {
    "structure": "Structure",
    "identifiers": "Identifiers",
    "standardization": "Standardization",
    "descriptors": "Descriptors",
    "predictions": "Predictions",
    "domain": "Applicability domain",
    "neighbours": "Nearest training molecules",
    "percentiles": "Approved-drug percentiles",
    "attribution": "Attribution map",
    "conformer": "Lowest-energy conformer",
    "descriptions": "Closest text descriptions",
    "versions": "Versions",
}
CONFORMER_SEED = 42
N_CONFORMERS = 5
N_NEIGHBOURS = 3
N_DESCRIPTIONS = 3


@dataclass(frozen=True)
class Prediction:
    """One task of one model: the ensemble mean and its spread (std over members; None for one member)."""

    model: str
    task: str
    kind: str  # "classification" (value is a probability) or "regression"
    value: float
    spread: float | None
    units: str = ""


@dataclass(frozen=True)
class Neighbours:
    """The nearest training molecules shared by ``models`` (same training split): SMILES, similarity, labels."""

    models: tuple[str, ...]
    frame: pd.DataFrame
    images: tuple[str, ...]


@dataclass(frozen=True)
class AttributionMap:
    """One model's per-atom attribution of one task, drawn as a heat map."""

    model: str
    task: str
    method: str
    image: bytes  # PNG


@dataclass(frozen=True)
class ConformerImage:
    """The lowest-energy conformer of a small seeded ensemble, drawn as a projection on its principal axes."""

    image: str
    n_conformers: int
    force_field: str
    seed: int


@dataclass(frozen=True)
class ModelVersion:
    """A checkpoint's name and the sha256 of each weight file, from its card."""

    name: str
    weights: tuple[tuple[str, str], ...]


@dataclass
class Dossier:
    """One molecule's report. ``error`` set means the input could not be used and nothing else was built."""

    input: str
    name: str = ""
    error: str = ""
    smiles: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    depiction: str = ""
    descriptors: dict[str, float | int] = field(default_factory=dict)
    predictions: list[Prediction] = field(default_factory=list)
    domain: pd.DataFrame | None = None
    neighbours: list[Neighbours] = field(default_factory=list)
    percentiles: pd.DataFrame | None = None
    attribution: AttributionMap | None = None
    conformer: ConformerImage | None = None
    descriptions: pd.DataFrame | None = None
    models: list[ModelVersion] = field(default_factory=list)
    workbench_version: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)


def default_models() -> list[str]:
    """The dossier's default models: every registered MoleculeNet GIN (one per data set, quick to load)."""
    return [c.name for c in list_models() if c.group == "MoleculeNet" and c.architecture == "gin"]


def workbench_version() -> str:
    """The installed package version (the source tree's ``__version__`` when not installed)."""
    try:
        return importlib.metadata.version("workbench")
    except importlib.metadata.PackageNotFoundError:
        return __version__


def _sentence(exc: BaseException) -> str:
    text = " ".join(str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).split())
    return (text or type(exc).__name__).rstrip(".") + "."


def _attempt(dossier: Dossier, section: str, build: Callable[[], None]) -> None:
    """Run one section's builder; any failure becomes the section's one-sentence reason."""
    try:
        build()
    except Exception as exc:  # a section never takes the dossier down
        dossier.problems[section] = f"This section could not be built: {_sentence(exc)}"


def build_dossier(
    smiles: str,
    models: Sequence[str] | None = None,
    *,
    explain_model: str | None = None,
    explain_task: str | None = None,
    name: str = "",
    retrieval_model: str | None = None,
    conformers: bool = True,
) -> Dossier:
    """Collect one molecule's dossier: identifiers, descriptors, predictions with trust signals, and views.

    Args:
        smiles: the molecule.
        models: checkpoint names (default :func:`default_models`).
        explain_model: the model whose attribution map is drawn (default: the first selected that has one).
        explain_task: that model's task (default: its first).
        name: a label shown as the title (user text; escaped when rendered).
        retrieval_model: dual encoder for the text descriptions (default: the shipped one).
        conformers: set False to skip the 3D conformer.
    """
    dossier = Dossier(input=str(smiles), name=str(name or ""), workbench_version=workbench_version())
    parsed = chem.parse_one(smiles)
    if not parsed.ok:
        dossier.error = parsed.error
        return dossier
    mol = parsed.mol
    dossier.smiles = parsed.smiles
    dossier.warnings = parsed.warnings
    _attempt(dossier, "structure", lambda: setattr(dossier, "depiction", chem.depict_svg(mol, width=420, height=320)))
    _attempt(dossier, "identifiers", lambda: _identifiers(dossier, mol, parsed.inchikey))
    _attempt(dossier, "descriptors", lambda: setattr(dossier, "descriptors", chem.describe(mol)))
    loaded = _load(dossier, list(default_models() if models is None else models))
    dossier.models = [_version(m.name, m.checkpoint.card) for m in loaded]
    row = pd.Series(dtype=object)
    if loaded:
        try:
            row = _predict(dossier, parsed.smiles, loaded)
        except Exception as exc:
            for section in ("predictions", "domain", "percentiles"):
                dossier.problems[section] = f"This section could not be built: {_sentence(exc)}"
    else:
        for section in ("predictions", "domain", "neighbours", "percentiles", "attribution"):
            dossier.problems[section] = "No model could be loaded, so there is nothing to show here."
    if loaded:
        _attempt(dossier, "neighbours", lambda: _neighbours(dossier, mol, loaded))
        if "percentiles" not in dossier.problems:
            _attempt(dossier, "percentiles", lambda: _percentiles(dossier, row, loaded))
        _attempt(dossier, "attribution", lambda: _attribution(dossier, mol, loaded, explain_model, explain_task))
    if conformers:
        _attempt(dossier, "conformer", lambda: _conformer(dossier, parsed.smiles))
    else:
        dossier.problems["conformer"] = "The 3D conformer was not requested."
    _attempt(dossier, "descriptions", lambda: _descriptions(dossier, parsed.smiles, retrieval_model))
    return dossier


def _identifiers(dossier: Dossier, mol: Chem.Mol, inchikey: str) -> None:
    dossier.identifiers = {
        "Canonical SMILES": dossier.smiles,
        "InChI": Chem.MolToInchi(mol) or "",
        "InChIKey": inchikey or Chem.MolToInchiKey(mol) or "",
        "Formula": rdMolDescriptors.CalcMolFormula(mol),
    }


def _version(name: str, card: ModelCard) -> ModelVersion:
    return ModelVersion(name, tuple((w.file, w.sha256) for w in card.weights))


def _load(dossier: Dossier, names: list[str]) -> list[LoadedModel]:
    loaded = []
    for name in names:
        try:
            loaded.append(load_model(name))
        except (KeyError, ValueError, RuntimeError, OSError, CheckpointError) as exc:
            dossier.note("predictions", f"{name}: not loaded ({_sentence(exc)})")
    return loaded


def _predict(dossier: Dossier, smiles: str, loaded: list[LoadedModel]) -> pd.Series:
    from workbench.predict.table import domain_columns, prediction_table

    table, notes = prediction_table([smiles], [m.name for m in loaded])
    row = table.iloc[0]
    if row["error"]:
        dossier.note("predictions", str(row["error"]))
    for note in notes:
        dossier.note("domain", note)
    domain = []
    for model in loaded:
        members = len(model.checkpoint.card.seeds) or len(model.checkpoint.card.weights)
        for task in model.checkpoint.card.tasks:
            mean, std = float(row[f"{model.name}:{task.name}"]), float(row[f"{model.name}:{task.name}:std"])
            spread = std if members > 1 and np.isfinite(std) else None
            dossier.predictions.append(Prediction(model.name, task.name, task.type, mean, spread, task.units or ""))
        score_col, flag_col = domain_columns(model.name)
        domain.append({"model": model.name, "AD": float(row[score_col]), "in_domain": row[flag_col]})
    dossier.domain = pd.DataFrame(domain, columns=["model", "AD", "in_domain"])
    return row


def _neighbours(dossier: Dossier, mol: Chem.Mol, loaded: list[LoadedModel]) -> None:
    from workbench.predict.applicability import nearest_neighbours

    groups: dict[str, list[LoadedModel]] = {}
    for model in loaded:  # checkpoints with the same stored domain index share their training molecules
        ref = model.checkpoint.card.reference("domain_index")
        groups.setdefault(ref.sha256 if ref is not None else model.name, []).append(model)
    for members in groups.values():
        first = members[0]
        try:
            frame = nearest_neighbours(mol, first.checkpoint, k=N_NEIGHBOURS)
        except DataUnavailableError as exc:
            data = first.checkpoint.card.data
            dossier.note(
                "neighbours",
                f"{', '.join(m.name for m in members)}: the training molecules are read from the data file "
                f"'{data.file or data.dataset}', which is not available here ({_sentence(exc)}) Put it in the folder "
                "named by WORKBENCH_DATA_DIR (`workbench data list` shows where each data set is looked for).",
            )
            continue
        except (CheckpointError, ValueError) as exc:
            dossier.note("neighbours", f"{', '.join(m.name for m in members)}: {_sentence(exc)}")
            continue
        images = tuple(chem.depict_svg(s, width=220, height=170) for s in frame["smiles"])
        dossier.neighbours.append(Neighbours(tuple(m.name for m in members), frame, images))


def _percentiles(dossier: Dossier, row: pd.Series, loaded: list[LoadedModel]) -> None:
    from workbench.predict.percentiles import percentile_table, reference_predictions

    references = {}
    for model in loaded:
        try:
            references[model.name] = reference_predictions(model)
        except (CheckpointError, DataUnavailableError, ValueError, OSError) as exc:
            dossier.note("percentiles", f"{model.name}: no approved-drug reference ({_sentence(exc)})")
    if not references:
        raise ValueError("no selected model has an approved-drug reference")
    dossier.percentiles = percentile_table(row, references)


def _attribution(
    dossier: Dossier, mol: Chem.Mol, loaded: list[LoadedModel], explain_model: str | None, explain_task: str | None
) -> None:
    from workbench.predict.attribution import atom_attributions

    if explain_model is not None:
        candidates = [m for m in loaded if m.name == explain_model] or [load_model(explain_model)]
    else:
        candidates = loaded
    first_error: Exception | None = None
    for model in candidates:
        task = explain_task if explain_task is not None and model is candidates[0] else model.tasks[0]
        if task not in model.tasks:
            raise ValueError(f"'{model.name}' has no task '{task}' (tasks: {', '.join(model.tasks)})")
        try:
            result = atom_attributions(model, mol, model.tasks.index(task))
        except ValueError as exc:
            first_error = first_error or exc
            continue
        image = heatmap_png(mol, result.weights)
        dossier.attribution = AttributionMap(model.name, task, result.description, image)
        return
    raise ValueError(str(first_error) if first_error else "no model to explain")


def _conformer(dossier: Dossier, smiles: str) -> None:
    from workbench.conformers import generate_conformers

    ensemble = generate_conformers(smiles, N_CONFORMERS, seed=CONFORMER_SEED, max_seconds=30.0)
    if not ensemble.ok:
        raise ValueError(ensemble.error or "no conformer could be embedded")
    image = projection_svg(ensemble.conformer_mol(0))
    dossier.conformer = ConformerImage(image, ensemble.n_conformers, ensemble.force_field, CONFORMER_SEED)


def _descriptions(dossier: Dossier, smiles: str, retrieval_model: str | None) -> None:
    from workbench.retrieval import DEFAULT_MODEL, describe, load_retriever

    name = retrieval_model or DEFAULT_MODEL
    try:
        retriever = load_retriever(name)
        table = describe(smiles, N_DESCRIPTIONS, retriever=retriever)
    except (KeyError, CheckpointError, DataUnavailableError, OSError) as exc:
        dossier.problems["descriptions"] = (
            f"The text-retrieval model '{name}' or its ChEBI-20 corpus is not available here: {_sentence(exc)}"
        )
        return
    dossier.descriptions = table
    dossier.models.append(_version(name, retriever.checkpoint.card))
