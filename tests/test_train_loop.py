"""The shared training loop: early stopping, the run folder's log and config check, exact resume, reuse."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from workbench.train.loop import EarlyStopping, fit
from workbench.train.run_folder import ConfigMismatchError, RunFolder

CONFIG = {"lr": 0.01, "epochs": 6, "seed": 0}


class Job:
    """A small network with dropout and batch norm, Adam, and every kind of generator an epoch can draw from."""

    def __init__(self, seed: int = 0, crash_at: int | None = None) -> None:
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        data = torch.Generator().manual_seed(99)
        self.x = torch.randn(40, 5, generator=data)
        self.y = self.x @ torch.randn(5, 1, generator=data) + 0.1 * torch.randn(40, 1, generator=data)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(5, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.3),
            torch.nn.Linear(16, 1),
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=CONFIG["lr"])
        self.order = np.random.default_rng(seed)
        self.noise = torch.Generator().manual_seed(seed)
        self.crash_at, self.calls = crash_at, 0

    def train_epoch(self, epoch: int) -> dict[str, float]:
        if epoch == self.crash_at:
            raise KeyboardInterrupt
        self.calls += 1
        losses = []
        for rows in np.array_split(self.order.permutation(30), 3):
            jitter = 0.01 * torch.randn(len(rows), 5, generator=self.noise) * random.random()
            jitter = jitter + 0.001 * float(np.random.random())  # the global NumPy and Python generators too
            loss = torch.nn.functional.mse_loss(self.model(self.x[rows] + jitter), self.y[rows])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return {"loss": float(np.mean(losses))}

    def validate(self) -> dict[str, float]:
        self.model.eval()
        with torch.no_grad():
            return {"rmse": float(torch.sqrt(torch.mean((self.model(self.x[30:]) - self.y[30:]) ** 2)))}

    def fit(self, run: RunFolder | None, epochs: int = CONFIG["epochs"], patience: int | None = 10):
        return fit(
            self.model, self.optimizer, self.train_epoch, self.validate, epochs=epochs,
            stopping=EarlyStopping("rmse", "min", patience), run=run,
            generators={"order": self.order, "noise": self.noise}, bar=False,
        )  # fmt: skip


def test_loop_stops_early_on_a_plateau_and_keeps_the_best_epoch():
    job = Job()
    scores = iter([0.9, 0.5, 0.6, 0.5, 0.7, 0.5, 0.4, 0.3])  # best at epoch 1, no strict improvement after it
    kept = {}

    def validate() -> dict[str, float]:
        score = next(scores)
        if score == 0.5 and not kept:
            kept.update({k: v.clone() for k, v in job.model.state_dict().items()})
        return {"rmse": score}

    result = fit(job.model, job.optimizer, job.train_epoch, validate, epochs=8,
                 stopping=EarlyStopping("rmse", "min", patience=3), bar=False)  # fmt: skip
    assert result.stopped_early and result.best_epoch == 1 and result.epochs_run == 5 and job.calls == 5
    assert [row["rmse"] for row in result.history] == [0.9, 0.5, 0.6, 0.5, 0.7]
    assert all(torch.equal(v, kept[k]) for k, v in job.model.state_dict().items())  # the best epoch's weights
    assert not job.model.training


def test_loop_without_patience_runs_every_epoch():
    job = Job()
    result = fit(job.model, job.optimizer, job.train_epoch, lambda: {"rmse": 1.0}, epochs=4,
                 stopping=EarlyStopping("rmse", "min"), bar=False)  # fmt: skip
    assert not result.stopped_early and job.calls == 4 and result.best_epoch == 0


def test_run_folder_logs_every_epoch_and_records_the_config(tmp_path):
    run = RunFolder(tmp_path / "run", CONFIG)
    result = Job().fit(run)
    rows = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(result.epochs_run)) and all(
        "rmse" in r and "loss" in r for r in rows
    )
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert recorded["config"] == CONFIG and recorded["sha256"] == run.sha256
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert files == {"config.json", "log.jsonl", "best.safetensors", "result.json"}  # resumable state removed


def test_resume_with_a_different_config_is_refused_naming_the_key(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        Job(crash_at=2).fit(RunFolder(tmp_path / "run", CONFIG))
    changed = {**CONFIG, "lr": 0.02}
    with pytest.raises(ConfigMismatchError, match=r"lr \(0\.01 -> 0\.02\)") as refused:
        Job().fit(RunFolder(tmp_path / "run", changed))
    message = str(refused.value)
    assert "epochs" not in message and "seed" not in message and "delete that folder" in message
    assert "\n" not in message


def test_interrupted_run_resumes_to_bit_identical_weights(tmp_path):
    whole = Job()
    expected = whole.fit(RunFolder(tmp_path / "whole", CONFIG))
    with pytest.raises(KeyboardInterrupt):
        Job(crash_at=3).fit(RunFolder(tmp_path / "resumed", CONFIG))
    torch.manual_seed(1234)  # whatever the generators did in between, the saved states are restored
    np.random.seed(1234)
    random.seed(1234)
    again = Job()
    result = again.fit(RunFolder(tmp_path / "resumed", CONFIG))
    assert result.resumed_at == 3 and again.calls == CONFIG["epochs"] - 3
    final, reference = again.model.state_dict(), whole.model.state_dict()
    assert all(torch.equal(final[k], reference[k]) for k in reference)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in expected.history]


def test_a_finished_run_is_not_retrained_when_the_config_matches(tmp_path):
    first = Job()
    first.fit(RunFolder(tmp_path / "run", CONFIG))
    again = Job(crash_at=0)  # would raise if any epoch ran
    result = again.fit(RunFolder(tmp_path / "run", dict(CONFIG)))
    assert result.reused and again.calls == 0
    assert all(torch.equal(v, first.model.state_dict()[k]) for k, v in again.model.state_dict().items())


def test_first_finite_score_is_kept_and_nan_never_improves():
    stop = EarlyStopping("roc_auc", "max", patience=2, min_delta=0.01)
    assert stop.improved(0.5, None) and not stop.improved(float("nan"), None)
    assert not stop.improved(0.505, 0.5) and stop.improved(0.52, 0.5)
    with pytest.raises(ValueError, match="'max' or 'min'"):
        EarlyStopping("x", "up")


def test_a_run_that_stopped_early_does_not_train_on_when_resumed(tmp_path, monkeypatch):
    def flat(job: Job):
        return fit(job.model, job.optimizer, job.train_epoch, lambda: {"rmse": 1.0}, epochs=10,
                   stopping=EarlyStopping("rmse", "min", patience=2), run=RunFolder(tmp_path / "run", CONFIG),
                   bar=False)  # fmt: skip

    finish = RunFolder.finish
    monkeypatch.setattr(RunFolder, "finish", lambda *_a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):  # interrupted after the early stop, before its result was written
        flat(Job())
    monkeypatch.setattr(RunFolder, "finish", finish)
    again = Job()
    result = flat(again)
    assert again.calls == 0 and result.stopped_early and result.best_epoch == 0 and result.epochs_run == 3
