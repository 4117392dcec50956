"""The pretraining benchmark: one cell reads both test scores off its per-epoch log; the report is honest."""

import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from bench import pretraining
from tests.data_fixtures import tiny_tables
from workbench.data.prepared import prepare
from workbench.nn import GINPredictor
from workbench.train.finetune import featurize_prepared, scaled_targets
from workbench.train.pretrain.evaluation import Protocol, finetune_cell
from workbench.train.run_folder import RunFolder

PROTOCOL = Protocol(epochs=3, batch_size=16, num_layer=2, emb_dim=16, drop_ratio=0.1)


@pytest.fixture
def bbbp(data_dirs):
    tiny_tables(data_dirs[0])
    prep = prepare("bbbp", "scaffold")
    graphs, _, _ = featurize_prepared(prep)
    y, mean, std = scaled_targets(prep)
    return prep, graphs, y, mean, std


@pytest.mark.slow
def test_cell_reports_the_test_score_of_the_best_validation_epoch_and_of_the_last(bbbp, tmp_path):
    cell = finetune_cell(*bbbp, arm="none", init=None, seed=0, protocol=PROTOCOL, run_dir=tmp_path / "run")
    history = RunFolder(tmp_path / "run", {}).history()
    valid = [row["valid_roc_auc"] for row in history]
    assert cell.epochs == 3 == len(history)
    assert cell.best_epoch == max(range(3), key=lambda e: (valid[e], -e))
    assert cell.test_at_best_valid == pytest.approx(history[cell.best_epoch]["test_roc_auc"])
    assert cell.test_last == pytest.approx(history[-1]["test_roc_auc"])
    assert cell.metric == "roc_auc" and cell.init_sha256 is None


@pytest.mark.slow
def test_cell_starts_from_the_encoder_and_a_finished_cell_is_reused(bbbp, tmp_path):
    encoder = GINPredictor(1, PROTOCOL.num_layer, PROTOCOL.emb_dim, 0.0, "last")
    torch.nn.init.constant_(encoder.gnn.x_embedding1.weight, 0.5)
    path = tmp_path / "encoder.safetensors"
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items() if k.startswith("gnn.")}, str(path))
    kw = dict(arm="enc", init=path, seed=1, protocol=PROTOCOL, run_dir=tmp_path / "run")
    first = finetune_cell(*bbbp, **kw)
    again = finetune_cell(*bbbp, **kw)
    scratch = finetune_cell(*bbbp, **{**kw, "arm": "none", "init": None, "run_dir": tmp_path / "scratch"})
    assert first.init_sha256 and again.test_last == first.test_last
    assert scratch.test_last != first.test_last  # same seed, different start


def _cells(arm: str, datasets, value: float) -> list[dict]:
    return [
        {"dataset": d, "arm": arm, "seed": s, "epochs": 30, "test_at_best_valid": value, "test_last": value,
         "seconds": 1.0, "molecules_per_s": 100.0}
        for d in datasets for s in (0, 1)
    ]  # fmt: skip


def test_report_averages_only_arms_that_have_every_classification_set():
    cells = pd.DataFrame(
        _cells("none", pretraining.CLASSIFICATION, 0.7) + _cells("attrmask", pretraining.CLASSIFICATION[:3], 0.8)
    )
    text = pretraining.report(cells, command="workbench bench pretraining", machine="test machine")
    average = next(line for line in text.splitlines() if line.startswith("| **average"))
    assert "70.00" in average and "3 of 8 sets" in average
    paired = next(line for line in text.splitlines() if line.startswith("| **vs none"))
    assert paired.endswith("| – | +10.00 (3 sets) |")  # attrmask vs none on the 3 sets both have
    assert "73.07" in text  # the published goal is shown beside ours


def test_report_averages_every_arm_over_the_sets_all_arms_run():
    every = [d for d in pretraining.CLASSIFICATION if d not in ("hiv", "muv")]
    cells = pd.DataFrame(
        _cells("none", pretraining.CLASSIFICATION, 0.7) + _cells("molebert", every, 0.75)
        + _cells("graphmvp", every[:4], 0.8)
    )  # fmt: skip
    text = pretraining.report(cells, command="c", machine="m")
    eight = next(line for line in text.splitlines() if line.startswith("| **average, 8"))
    assert "– (6 of 8 sets)" in eight  # Mole-BERT never runs HIV or MUV: no 8-set average
    six = next(line for line in text.splitlines() if line.startswith("| **average, the 6"))
    assert six.endswith("| 70.00 | 75.00 | – (4 of 6 sets) |")


def test_report_without_cells_says_so():
    assert "No cell has finished yet" in pretraining.report(pd.DataFrame(), command="c", machine="m")


def test_a_single_seed_shows_no_spread_and_several_seeds_show_theirs():
    one = pd.DataFrame(_cells("none", ["bbbp"], 0.7)[:1])
    two = pd.DataFrame(_cells("none", ["bbbp"], 0.7))
    two.loc[1, "test_at_best_valid"] = 0.8
    reports = [pretraining.report(c, command="c", machine="m").splitlines() for c in (one, two)]
    bbbp = [next(line for line in lines if line.startswith("| bbbp")) for lines in reports]
    assert "70.00 (n=1)" in bbbp[0] and "±" not in bbbp[0]
    assert "75.00 ± 5.00 (n=2)" in bbbp[1]
