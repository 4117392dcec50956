"""The Property prediction page shares small prediction tables between sessions and computes large ones per request."""

from __future__ import annotations

import pandas as pd

from workbench.app import models as app_models
from workbench.predict import table as table_module


def _counting(monkeypatch) -> list[tuple[list[str], list[str], object]]:
    calls: list[tuple[list[str], list[str], object]] = []

    def fake(smiles, models, *, callback=None, **_):
        calls.append((list(smiles), list(models), callback))
        return pd.DataFrame({"smiles": list(smiles), "error": [""] * len(smiles)}), [f"note {len(calls)}"]

    class Checkpoint:
        def __init__(self, name):
            self.path = f"/models/{name}"
            self.card = type("Card", (), {"weights": [type("Entry", (), {"sha256": SHAS.get(name, "0" * 64)})]})

    monkeypatch.setattr(app_models, "cached_model", lambda name: type("Loaded", (), {"checkpoint": Checkpoint(name)}))
    monkeypatch.setattr(table_module, "prediction_table", fake)
    app_models._shared_predictions.clear()
    return calls


SHAS: dict[str, str] = {}


def test_a_small_request_is_computed_once_and_every_session_gets_its_own_copy(monkeypatch):
    calls = _counting(monkeypatch)
    first, notes = app_models.page_predictions(["CCO"], ["esol_gin", "bbbp_champion"])
    first.loc[0, "error"] = "changed by one session"
    second, again = app_models.page_predictions(["CCO"], ["esol_gin", "bbbp_champion"])
    assert len(calls) == 1 and notes == again == ["note 1"]
    assert second.loc[0, "error"] == ""  # the other session's change did not reach the shared table
    app_models.page_predictions(["CCO"], ["esol_gin"])  # other models: computed anew
    assert len(calls) == 2
    monkeypatch.setitem(SHAS, "esol_gin", "1" * 64)  # the same name retrained: other weights, computed anew
    app_models.page_predictions(["CCO"], ["esol_gin"])
    assert len(calls) == 3 and calls[-1][1] == ["esol_gin"]


def test_a_large_request_is_computed_per_request_with_progress(monkeypatch):
    calls = _counting(monkeypatch)
    smiles = ["C" * (i % 5 + 1) for i in range(app_models.SHARED_PREDICTION_ROWS + 1)]

    def progress(done: int, total: int) -> None:
        pass

    app_models.page_predictions(smiles, ["esol_gin"], callback=progress)
    app_models.page_predictions(smiles, ["esol_gin"], callback=progress)
    assert len(calls) == 2 and all(callback is progress for _, _, callback in calls)
