"""The held-out figures a retrieval model's card records, formatted for a one-line note about the model."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.models.card import ModelCard

__all__ = ["CardFigures", "card_figures"]

MISSING_METRIC = "—"
MISSING_COUNT = "?"


@dataclass(frozen=True)
class CardFigures:
    """Name, description, split and test-set figures of a retrieval card, as text.

    Counts carry thousands separators (``?`` when the card has no split sizes); metrics are test-set
    means to two decimals (``—`` when the card lacks one).
    """

    name: str
    description: str
    split: str
    train_pairs: str
    test_pairs: str
    test_metrics: dict[str, str]

    def metric(self, name: str) -> str:
        """One test metric (``text2mol_mrr``, ``mol2text_r10``, ...) as text."""
        return self.test_metrics.get(name, MISSING_METRIC)


def _count(sizes: tuple[int, ...] | None, index: int) -> str:
    return MISSING_COUNT if sizes is None or len(sizes) <= index else f"{sizes[index]:,}"


def card_figures(card: ModelCard) -> CardFigures:
    """Read the training/test pair counts and the test metrics from a retrieval model's card."""
    sizes = card.split.sizes
    return CardFigures(
        name=card.name,
        description=card.description or "",
        split=card.split.kind,
        train_pairs=_count(sizes, 0),
        test_pairs=_count(sizes, 2),
        test_metrics={
            name: MISSING_METRIC if m.mean is None else f"{m.mean:.2f}" for name, m in card.metric_block("test").items()
        },
    )
