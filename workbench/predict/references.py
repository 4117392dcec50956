"""Compute and store a checkpoint's reference files: the domain index and the approved-drug percentiles.

Trainers call :func:`store_references` once a checkpoint folder is written; ``workbench models
add-references`` calls it for checkpoints made before reference files existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdkit import Chem

from workbench.data import DataUnavailableError
from workbench.models import Checkpoint, ModelCard, load_card, set_reference_files
from workbench.models.builders import build_predictor, can_predict
from workbench.models.store import share_reference_file
from workbench.predict.applicability import training_molecules
from workbench.predict.domain_index import DOMAIN_INDEX_FILE, save_domain_index
from workbench.predict.inference import LoadedModel, get_device
from workbench.predict.percentiles import PERCENTILE_FILE, compute_reference, save_reference

__all__ = ["store_references"]


def store_references(
    folder: str | Path,
    mols: Sequence[Chem.Mol] | None = None,
    rows: Sequence[int] | None = None,
    *,
    log=print,
) -> ModelCard:
    """Write the domain index and ``percentiles.npz`` for a checkpoint folder and record them in its card.

    The domain index goes to the shared reference folder beside the checkpoint folders
    (``models/_shared/<sha256>.npz``, :func:`~workbench.models.store.share_reference_file`): checkpoints of one
    data set and split list the same file.

    Args:
        folder: a checkpoint folder with a valid card.
        mols, rows: the training molecules and their rows in the card's data file; when omitted they are
            rebuilt from that data file, and the domain index is skipped (with a message) if it is absent.
        log: where progress messages go.

    Returns:
        The updated card (unchanged for checkpoints that are not property predictors).
    """
    folder = Path(folder)
    checkpoint = Checkpoint(folder, load_card(folder))
    if not can_predict(checkpoint):
        log(f"{checkpoint.name}: not a property predictor, no reference files")
        return checkpoint.card
    files: list[dict] = []
    if mols is None:
        try:
            mols, rows = training_molecules(checkpoint)
        except DataUnavailableError as exc:
            log(f"{checkpoint.name}: no domain index ({exc})")
    if mols is not None:  # one copy per data set and split, shared by every card that lists it
        save_domain_index(folder, mols, rows)
        shared = share_reference_file(folder, DOMAIN_INDEX_FILE)
        index = {"file": shared, "kind": "domain_index", "molecules": len(mols), "shared": True}
        set_reference_files(folder, [index])  # recorded now: the percentiles below may fail for want of data
        files.append(index)
    device = get_device()  # a fresh predictor: the process cache may hold this folder with its older card
    table = compute_reference(LoadedModel(checkpoint, build_predictor(checkpoint, device), device))
    save_reference(folder, table, checkpoint.tasks)
    files.append({"file": PERCENTILE_FILE, "kind": "percentile_reference", "molecules": len(table)})
    card = set_reference_files(folder, files)
    log(f"{checkpoint.name}: stored {', '.join(f['file'] for f in files)}")
    return card
