"""Keep the better of two GIN ensembles of one data set on the validation split: ``train finetune --only-if-better``.

A GIN fine-tuned from a pretrained encoder replaces the shipped one (from random weights, or another encoder) only
when its mean validation score is better; test scores never decide. Either way the checkpoint that stays records
the comparison in its card, under ``training.init_comparison``: both candidates' initialisation, command and
validation and test scores (mean ± std over seeds), which one was kept and by what rule. The Model zoo shows it
(:func:`workbench.models.zoo.init_comparison_rows`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from workbench.models import ModelCard, load_card
from workbench.models.store import rewrite_card

__all__ = ["better_on_valid", "candidate_record", "keep_better", "primary"]


def primary(card: ModelCard) -> tuple[str, bool]:
    """The metric that decides (ROC-AUC, or RMSE for regression) and whether higher is better."""
    regression = any(t.type == "regression" for t in card.tasks)
    return ("rmse", False) if regression else ("roc_auc", True)


def candidate_record(card: ModelCard) -> dict:
    """One candidate's row: its initialisation, command and validation / test scores (mean, std)."""
    metric, _ = primary(card)
    init = (card.training or {}).get("init")
    scores = {}
    for part in ("valid", "test"):
        m = card.metrics.get(part, {}).get(metric)
        scores[part] = {"mean": m.mean, "std": m.std} if m is not None else None
    return {"init": init, "init_sha256": (card.training or {}).get("init_sha256"), "command": card.command, **scores}


def better_on_valid(new: ModelCard, old: ModelCard) -> bool:
    """Whether ``new``'s mean validation score beats ``old``'s (a tie keeps ``old``)."""
    metric, higher = primary(new)
    a, b = new.metrics["valid"][metric].mean, old.metrics["valid"][metric].mean
    return a > b if higher else a < b


def _record(folder: Path, comparison: dict) -> ModelCard:
    """Write ``training.init_comparison`` into the card of ``folder`` (weights untouched)."""
    card = load_card(folder).to_dict()
    card["training"] = {**(card.get("training") or {}), "init_comparison": comparison}
    return rewrite_card(folder, card)


def keep_better(staged: str | Path, shipped: str | Path) -> tuple[bool, ModelCard]:
    """Move ``staged`` over ``shipped`` if it is better on validation; record the comparison in what stays.

    Args:
        staged: the new checkpoint folder (written outside the models folder).
        shipped: the checkpoint folder it would replace.

    Returns:
        ``(replaced, card)``: whether the new checkpoint now stands at ``shipped``, and the card there.
    """
    staged, shipped = Path(staged), Path(shipped)
    new, old = load_card(staged), load_card(shipped)
    metric, higher = primary(new)
    replaced = better_on_valid(new, old)
    comparison = {
        "metric": metric,
        "rule": f"the {'higher' if higher else 'lower'} mean validation {metric} is kept (test scores never decide)",
        "candidates": [candidate_record(old), candidate_record(new)],
        "kept": 1 if replaced else 0,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if replaced:
        retired = shipped.with_name(shipped.name + ".replaced")
        shutil.rmtree(retired, ignore_errors=True)
        shipped.rename(retired)
        shutil.move(str(staged), str(shipped))
        shutil.rmtree(retired)
    return replaced, _record(shipped, comparison)
