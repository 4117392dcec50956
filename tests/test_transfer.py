"""The task-transfer lab: the masking protocol, the arms' networks and losses, a tiny cell, the benchmark's resume.

Everything runs on synthetic tensors or a few dozen molecules; the end-to-end cell uses the first 150 rows of the
real Tox21 file when it is on disk (``WORKBENCH_DATA_DIR``) and is skipped otherwise.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from workbench.data.paths import search_dirs
from workbench.nn.heads import masked_bce_loss
from workbench.nn.task_ebm import TaskRelationEBM
from workbench.nn.task_transfer import GINMultiTask, KnowledgeTransferHead, TaskTransferGIN
from workbench.nn.task_weighting import GradNorm, UncertaintyWeighting, WithTaskWeights, per_task_bce
from workbench.transfer.protocol import (
    HELPER_FRACTION,
    LabelFractionError,
    TransferSetupError,
    check_tasks,
    kept_rows,
    mask_labels,
    random_partition,
    target_tasks,
)
from workbench.transfer.relations import correlation_with, label_correlation, task_graph


def _labels(n: int = 400, tasks: int = 5, seed: int = 0, missing: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, tasks)) < 0.3).astype(np.float32)
    y[rng.random((n, tasks)) < missing] = np.nan
    return y


TASKS = ("a", "b", "c", "d", "e")
#: Where the real Tox21 file may be, read before a test points WORKBENCH_DATA_DIR at its own folder.
REAL_TOX21 = [folder / name for folder in search_dirs("moleculenet") for name in ("tox21.csv",)]
TRAIN, REST = np.arange(0, 320), np.arange(320, 400)


# --- protocol --------------------------------------------------------------------------------------------------


def test_masking_keeps_exactly_the_seeded_fraction_and_never_touches_valid_or_test():
    y = _labels()
    masked = mask_labels(y, TRAIN, TASKS, ("b", "d"), 0.1, seed=3)
    for t, task in enumerate(TASKS):
        before = int((~np.isnan(y[TRAIN, t])).sum())
        after = int((~np.isnan(masked.y[TRAIN, t])).sum())
        share = 0.1 if task in ("b", "d") else HELPER_FRACTION
        assert after == round(share * before) == masked.kept[task]
        kept = ~np.isnan(masked.y[TRAIN, t])
        np.testing.assert_array_equal(masked.y[TRAIN, t][kept], y[TRAIN, t][kept])  # kept labels are unchanged
    np.testing.assert_array_equal(masked.y[REST], y[REST])  # validation and test rows keep every label
    assert masked.target_index == [1, 3] and masked.helper_index == [0, 2, 4]
    again = mask_labels(y, TRAIN, TASKS, ("b", "d"), 0.1, seed=3)
    np.testing.assert_array_equal(np.isnan(again.y), np.isnan(masked.y))  # seeded
    other = mask_labels(y, TRAIN, TASKS, ("b", "d"), 0.1, seed=4)
    assert not np.array_equal(np.isnan(other.y), np.isnan(masked.y))


def test_smaller_fractions_keep_subsets_and_a_mask_does_not_depend_on_the_other_targets():
    rows = np.arange(1000)
    five, ten, fifty = (set(kept_rows(rows, f, seed=1, task_index=2)) for f in (0.05, 0.1, 0.5))
    assert five < ten < fifty and len(ten) == 100
    y = _labels()
    alone = mask_labels(y, TRAIN, TASKS, ("b",), 0.1, seed=0)
    pair = mask_labels(y, TRAIN, TASKS, ("b", "d"), 0.1, seed=0)
    np.testing.assert_array_equal(np.isnan(alone.y[:, 1]), np.isnan(pair.y[:, 1]))


def test_a_fraction_that_leaves_a_target_one_class_is_refused_with_a_sentence():
    y = _labels()
    y[TRAIN, 2] = np.where(np.isnan(y[TRAIN, 2]), np.nan, 0.0)
    y[TRAIN[:3], 2] = 1.0  # 3 positives among ~250 labels: 5 % keeps none of them for seed 0
    with pytest.raises(LabelFractionError) as caught:
        mask_labels(y, TRAIN, TASKS, ("c",), 0.05, seed=0)
    message = str(caught.value)
    n = int((~np.isnan(y[TRAIN, 2])).sum())
    assert message.startswith(f"At a 5 % label fraction, target 'c' keeps {round(0.05 * n)} of its {n} training labels")
    assert "none of them is positive" in message and message.endswith(
        "Choose a larger label fraction or another target."
    )
    mask_labels(y, TRAIN, TASKS, ("a",), 0.05, seed=0)  # the same fraction is fine for another target
    with pytest.raises(TransferSetupError, match="above 0 and at most 100 %"):
        mask_labels(y, TRAIN, TASKS, ("a",), 0.0, seed=0)


def test_one_task_and_regression_sets_are_refused():
    with pytest.raises(TransferSetupError, match="BBBP has one task \\(p_np\\): transfer needs a target task"):
        check_tasks("BBBP", ["p_np"])
    with pytest.raises(TransferSetupError, match="regression"):
        check_tasks("ESOL", ["logS", "x"], "regression")
    check_tasks("Tox21", ["a", "b"])


def test_target_sets_paper_random_and_named():
    tasks = [f"t{k}" for k in range(12)]
    y = _labels(2000, 12, missing=0.1)
    assert target_tasks("sider", tasks, y, "paper") == ("Investigations", "Vascular disorders")
    first = random_partition(tasks, y, 0)
    assert len(first) == 3 and first == target_tasks("x", tasks, y, "random0")  # 25 % of 12, fixed by k
    assert random_partition(tasks, y, 1) != first or random_partition(tasks, y, 2) != first
    assert target_tasks("x", tasks, y, "t1+t4") == ("t1", "t4")
    with pytest.raises(TransferSetupError, match="no task named 'nope'"):
        target_tasks("x", tasks, y, "nope")
    with pytest.raises(TransferSetupError, match="no target pair on BBBP"):
        target_tasks("bbbp", tasks, y, "paper")


def test_label_correlation_and_the_task_graph():
    rng = np.random.default_rng(0)
    base = (rng.random(500) < 0.4).astype(float)
    flip = rng.random(500) < 0.1
    y = np.stack([base, np.where(flip, 1 - base, base), rng.random(500) < 0.5, 1 - base], axis=1).astype(float)
    y[:50, 1] = np.nan
    corr = label_correlation(y)
    assert corr.phi[0, 1] > 0.7 and corr.phi[0, 3] == pytest.approx(-1.0) and abs(corr.phi[0, 2]) < 0.15
    assert corr.pairs[0, 1] == 450 and corr.pairs[0, 0] == 500
    row, pairs = correlation_with(y, 0)
    np.testing.assert_allclose(row, corr.phi[0])
    np.testing.assert_array_equal(pairs, corr.pairs[0])
    edges = {tuple(e) for e in task_graph(corr, k=1).tolist()}
    assert (0, 3) in edges and len(edges) <= 4 and all(s < t for s, t in edges)  # each task to its strongest
    assert {task for edge in edges for task in edge} == {0, 1, 2, 3}
    assert task_graph(corr, k=1, min_pairs=600).shape == (0, 2)  # no pair is labelled often enough


# --- networks and losses ---------------------------------------------------------------------------------------


def _graph_batch(n: int = 4):
    from workbench.chem import parse_one
    from workbench.featurizers import mol_to_graph
    from workbench.featurizers.graph_batch import GraphBatch

    smiles = ["CCO", "c1ccccc1O", "CC(=O)N", "CCN(CC)CC", "OCCO", "c1ccncc1"][:n]
    return GraphBatch.from_graphs([mol_to_graph(parse_one(s).mol) for s in smiles])


@pytest.mark.parametrize("kind", ["single", "mtl", "kt"])
def test_each_arm_network_gives_one_logit_per_task_and_the_masked_loss_ignores_nan(kind):
    torch.manual_seed(0)
    n_tasks = 1 if kind == "single" else 5
    if kind == "kt":
        net = TaskTransferGIN(n_tasks, num_layer=2, emb_dim=16, task_dim=8, rank=4)
    else:
        net = GINMultiTask(n_tasks, num_layer=2, emb_dim=16)
    batch = _graph_batch()
    logits = net(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
    assert logits.shape == (4, n_tasks)
    target = torch.full((4, n_tasks), float("nan"))
    target[0, 0], target[2, -1] = 1.0, 0.0
    loss = masked_bce_loss(logits, target)
    assert torch.isfinite(loss)
    loss.backward()
    other = target.clone()
    other[1, 0] = float("nan")  # still missing: the loss does not change with what a missing label would be
    assert masked_bce_loss(logits.detach(), other) == pytest.approx(loss.item())
    losses, present = per_task_bce(logits.detach(), target)
    assert present.tolist() == ([True] if n_tasks == 1 else [True, False, False, False, True])
    assert losses[~present].abs().sum() == 0


def test_the_factorised_projection_has_the_shapes_and_matches_the_naive_sum():
    torch.manual_seed(0)
    head = KnowledgeTransferHead(in_dim=12, n_tasks=4, task_dim=6, rank=3)
    h = torch.randn(5, 12)
    x = head.task_representations(h)
    moved = head.project(x)
    assert x.shape == (5, 4, 6) and moved.shape == (5, 4, 4, 6)  # X_{i→j}: [B, j, i, d]
    s, t = head.source, head.target
    np.testing.assert_allclose(moved[2, 1, 3].detach(), (x[2, 3] @ s[3] @ t[1].T).detach(), atol=1e-6)
    with torch.no_grad():
        head.dependency_logits.normal_()
    logits, attention = head(h, return_attention=True)
    scores = torch.einsum("bjd,bjid->bji", head.query(x), head.key(moved)) / math.sqrt(6)
    eye = torch.eye(4, dtype=torch.bool)
    alpha = torch.softmax(scores.masked_fill(eye, float("-inf")), dim=-1)
    beta = torch.sigmoid(head.dependency_logits).masked_fill(eye, 0.0)
    naive = ((x + torch.einsum("bji,bjid->bjd", alpha * beta, moved)) * head.out_weight).sum(-1) + head.out_bias
    np.testing.assert_allclose(logits.detach(), naive.detach(), atol=1e-5)
    assert attention.shape == (5, 4, 4) and torch.allclose(attention.sum(-1), torch.ones(5, 4))
    dependency = head.dependency()
    assert dependency.shape == (4, 4) and (dependency.diagonal() == 0).all()


@pytest.mark.slow
def test_uncertainty_and_gradnorm_weights_update():
    from workbench.train.multitask import GradNormObjective, UncertaintyObjective

    torch.manual_seed(0)
    batch = _graph_batch(6)
    target = torch.tensor([[1, 0, np.nan], [0, 0, 1], [1, np.nan, 0], [0, 1, 1], [1, 1, 0], [0, 0, np.nan]]).float()
    for weighting, objective in ((UncertaintyWeighting(3), UncertaintyObjective()), (GradNorm(3), GradNormObjective())):
        model = WithTaskWeights(GINMultiTask(3, num_layer=2, emb_dim=16), weighting)
        optimizer = torch.optim.Adam(
            [{"params": model.net.parameters()}, {"params": weighting.parameters(), "lr": 0.05}]
        )
        before = weighting.weights().clone()
        for _ in range(4):
            optimizer.zero_grad()
            objective.loss(model, batch, target).backward()
            optimizer.step()
            objective.after_step(model)
        after = weighting.weights()
        assert not torch.allclose(before, after)
        if isinstance(weighting, GradNorm):
            assert after.sum() == pytest.approx(3.0) and (after > 0).all()  # renormalized
            assert torch.isfinite(weighting.initial_losses).all()
        assert "weighting." + next(iter(dict(weighting.named_parameters()))) in model.state_dict()


@pytest.mark.slow
def test_the_ebm_mean_field_gives_probabilities_and_nce_learns_a_positive_coupling():
    torch.manual_seed(0)
    ebm = TaskRelationEBM(3, torch.tensor([[0, 1], [1, 2]]))
    with torch.no_grad():
        ebm.pair.copy_(torch.tensor([3.0, -2.0]))
    mu = ebm.mean_field(torch.randn(50, 3) * 4)
    assert mu.shape == (50, 3) and (mu >= 0).all() and (mu <= 1).all()
    coupling = ebm.coupling()
    assert torch.equal(coupling, coupling.T) and coupling[0, 1] == 3.0 and coupling[0, 2] == 0.0

    # labels of tasks 0 and 1 agree far more often than independent predictions say: NCE gives w01 > 0
    rng = np.random.default_rng(0)
    a = rng.random(600) < 0.5
    b = np.where(rng.random(600) < 0.9, a, ~a)
    y = np.stack([a, b, rng.random(600) < 0.5], axis=1).astype(np.float32)
    y[rng.random((600, 3)) < 0.2] = np.nan
    logits = torch.zeros(600, 3)  # the network knows nothing: each label is a coin flip
    model = TaskRelationEBM(3, torch.tensor([[0, 1], [1, 2]]))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        optimizer.zero_grad()
        loss = model.nce_loss(logits, torch.from_numpy(y), 16, gen)
        loss.backward()
        optimizer.step()
    assert float(model.pair[0].detach()) > 1.0 and abs(float(model.pair[1].detach())) < 0.5
    with pytest.raises(ValueError, match="two different tasks"):
        TaskRelationEBM(2, torch.tensor([[0, 0]]))


# --- a tiny cell, end to end -----------------------------------------------------------------------------------


@pytest.fixture
def tiny_tox21(data_dirs):
    """The first 150 rows of the real Tox21 file in this test's data folder (skipped when it is not on disk)."""
    source = next((p for p in REAL_TOX21 if p.is_file()), None)
    if source is None:
        pytest.skip("the Tox21 file is not on disk (WORKBENCH_DATA_DIR names the folder holding it)")
    frame = pd.read_csv(source).head(150)
    frame.to_csv(data_dirs[0] / "tox21.csv", index=False)
    from workbench.transfer.data import load_transfer_data

    return load_transfer_data("tox21")


@pytest.mark.slow
def test_a_tiny_cell_runs_every_arm_end_to_end(tiny_tox21, tmp_path, monkeypatch):
    import workbench.transfer.baselines as baselines
    from workbench.transfer.arms import ARMS, TrainSettings
    from workbench.transfer.cells import CellKey, run_cell

    monkeypatch.setattr(baselines, "HELPER_TREES", 20)
    monkeypatch.setattr(baselines, "N_TREES", 40)
    settings = TrainSettings(
        epochs=2, patience=2, num_layer=2, emb_dim=16, task_dim=8, rank=4, ebm_epochs=2, min_steps=2
    )
    rows = {}
    for arm in ARMS:
        key = CellKey("tox21", "SR-ARE+SR-MMP", arm, 0.5, 0)
        rows[arm] = run_cell(key, tiny_tox21, settings, run_root=tmp_path / "runs", cache={})
    for arm, row in rows.items():
        scores = json.loads(row["task_auc"])
        assert set(scores) == {"SR-ARE", "SR-MMP"}, arm
        assert all(v is None or 0 <= v <= 1 for v in scores.values()), arm
        assert json.loads(row["kept_labels"])["SR-ARE"] > 0
    assert rows["ebm"]["molecule_epochs"] == 0  # arm (e) reused arm (b)'s network of the same seed
    assert (tmp_path / "runs" / CellKey("tox21", "SR-ARE+SR-MMP", "mtl", 0.5, 0).folder(2) / "mtl").is_dir()
    again = run_cell(CellKey("tox21", "SR-ARE+SR-MMP", "kt", 0.5, 0), tiny_tox21, settings, run_root=tmp_path / "runs")
    assert again["task_auc"] == rows["kt"]["task_auc"] and again["molecule_epochs"] == 0  # read back, not retrained


# --- the benchmark: resume, best arm, report -------------------------------------------------------------------


def _fake_row(key, epochs: int, auc: float) -> dict:
    from dataclasses import asdict

    tasks = {"tox21": ("SR-ARE", "SR-MMP"), "sider": ("Investigations", "Vascular disorders")}[key.dataset]
    per_task = {t: auc + 0.01 * k for k, t in enumerate(tasks)}
    return {
        **asdict(key), "targets": "+".join(tasks), "n_targets": 2, "roc_auc": float(np.mean(list(per_task.values()))),
        "valid_roc_auc": auc, "task_auc": json.dumps(per_task), "task_valid_auc": json.dumps(per_task),
        "kept_labels": "{}", "kept_positives": "{}", "helper_fraction": 0.9, "epochs": epochs, "patience": 4,
        "best_epochs": "[1]", "epochs_run": "[2]", "molecule_epochs": 100, "seconds": 1.0, "threads": 1,
    }  # fmt: skip


@pytest.mark.slow
def test_the_benchmark_resumes_after_finished_cells_and_resolves_the_best_arm(tmp_path, monkeypatch):
    import bench.transfer as bench
    from workbench.transfer.arms import TrainSettings

    calls = []
    auc = {"single": 0.6, "mtl": 0.7, "kt": 0.75}

    def fake(key, data, settings, runs, cache):
        calls.append((key.arm, key.fraction, key.seed))
        return _fake_row(key, settings.epochs, auc[key.arm])

    monkeypatch.setattr(bench, "_run_cell", fake)
    monkeypatch.setattr("workbench.transfer.data.load_transfer_data", lambda name: object())
    cells = tmp_path / "transfer.csv"
    keys = bench.main_keys(["tox21"], ["paper"], ["single", "mtl", "kt"], [0, 1], [0], "none")
    sweep = bench.sweep_keys(["tox21"], [0.05, 0.1], ["single", "best"], [0], "none")
    settings = TrainSettings(epochs=3)
    assert bench.run(keys, settings=settings, sweep=sweep, cells_path=cells, log=lambda m: None) == 8
    assert calls[-2:] == [("single", 0.05, 0), ("kt", 0.05, 0)]  # best = kt, the highest at 10 %
    assert len(pd.read_csv(cells)) == 8
    calls.clear()
    assert bench.run(keys, settings=settings, sweep=sweep, cells_path=cells, log=lambda m: None) == 0 and not calls
    assert (
        bench.run(keys[:1], settings=TrainSettings(epochs=5), cells_path=cells, log=lambda m: None) == 1
    )  # new epochs


@pytest.mark.slow
def test_the_report_says_which_cells_exist_and_whether_the_margin_is_met(tmp_path):
    from bench.transfer import main_keys, sweep_keys
    from bench.transfer_report import report

    rows = [
        _fake_row(k, 15, {"single": 0.62, "mtl": 0.64, "kt": 0.70}[k.arm] + 0.01 * k.seed)
        for k in main_keys(["tox21", "sider"], ["paper"], ["single", "mtl", "kt"], [0, 1, 2], [0], "none")
    ]
    rows += [
        _fake_row(k, 15, 0.6 + k.fraction / 2) for k in sweep_keys(["tox21"], [0.05, 0.25], ["single"], [0], "none")
    ]
    text = report(
        pd.DataFrame(rows), command="workbench bench transfer", machine="test machine", figure=tmp_path / "f.png"
    )
    assert "18 of 96 finished" in text  # 2 sets × 3 arms × 3 seeds, of 8 arms × (3 paper + 3 random) × 2 sets
    assert "**Met**: the best GIN transfer arm, `kt`, beats the single-task GIN by +0.080" in text
    assert "| kt | single | task × seed | 0.080 (12/12) |" in text
    assert "*paper: transfer model*" in text and "0.776" in text
    assert "Missing (data set, target set, seed: arms): tox21 paper seed 0: uw, gradnorm, ebm, xgb, xgb_helpers" in text
    assert (tmp_path / "f.png").is_file() and "![ROC-AUC against the label fraction](f.png)" in text
    empty = report(pd.DataFrame(), command="c", machine="m", note="Run as two processes.")
    assert "No cell has finished yet" in empty and "Run as two processes." in empty


def test_paired_comparison_pairs_units_and_reports_p_values():
    from workbench.transfer.results import paired_comparison, task_scores

    rows = []
    for seed in range(4):
        for arm, shift in (("single", 0.0), ("mtl", 0.05)):
            rows.append({"dataset": "tox21", "target_set": "paper", "arm": arm, "fraction": 0.1, "seed": seed,
                         "init": "none", "task_auc": json.dumps({"A": 0.6 + shift + 0.01 * seed, "B": 0.7 + shift}),
                         "task_valid_auc": "{}"})  # fmt: skip
    rows.append({**rows[-1], "seed": 9})  # no single-task partner: left out
    scores = task_scores(pd.DataFrame(rows))
    assert len(scores) == 18
    result = paired_comparison(scores, "mtl", "single")
    assert result["n"] == 8 and result["mean_diff"] == pytest.approx(0.05) and result["wins"] == 8
    assert result["wilcoxon_p"] < 0.05 and math.isnan(result["t_p"])  # every difference is the same: no t


def test_the_cli_registers_the_transfer_benchmark(capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as done:
        main(["bench", "transfer", "--help"])
    assert done.value.code == 0
    assert "--max-minutes" in capsys.readouterr().out


def test_the_plan_counts_a_shared_network_once_and_grows_with_the_epochs():
    from types import SimpleNamespace

    from bench.transfer_plan import plan_seconds
    from workbench.transfer.arms import TrainSettings
    from workbench.transfer.cells import CellKey

    data = SimpleNamespace(name="tox21", tasks=TASKS, y=_labels(), train=TRAIN, valid=REST[:40], test=REST[40:])
    keys = [CellKey("tox21", "b+d", arm, 0.5, 0) for arm in ("mtl", "ebm")]
    settings = TrainSettings(epochs=4)
    both = plan_seconds(keys, settings, lambda name: data)["tox21"]
    mtl = plan_seconds(keys[:1], settings, lambda name: data)["tox21"]
    ebm_alone = plan_seconds(keys[1:], settings, lambda name: data)["tox21"]
    assert mtl < both < 2 * mtl and ebm_alone > mtl  # (e) reuses (b)'s network; alone it trains one
    assert plan_seconds(keys, TrainSettings(epochs=8), lambda name: data)["tox21"] > both
