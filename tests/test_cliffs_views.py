"""What the cliff pages draw: agreement, SAS-map sampling, network layout, figures, benchmark rows, live models."""

import numpy as np
import pandas as pd
import pytest

from workbench import cliffs
from workbench.cliffs import figures, lab, live, results, views

A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"  # similar
C = "c1ccccc1CO"  # similar to neither


def test_moleculeace_agreement():
    assert views.moleculeace_agreement([True, False, True, False], [1, 0, 0, 0]) == 0.75
    assert views.moleculeace_agreement(np.array([True]), pd.Series([True])) == 1.0
    with pytest.raises(ValueError, match="2 cliff flags but 3 MoleculeACE labels"):
        views.moleculeace_agreement([True, False], [1, 0, 0])


def _pairs(n: int, cliffs_at: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"sali": np.arange(n, dtype=float), "is_cliff": np.isin(np.arange(n), cliffs_at)})


def test_sample_pairs_keeps_every_cliff_and_the_limit():
    pairs = _pairs(50, [3, 17, 49])
    same, note = views.sample_pairs(pairs, limit=50)
    assert same is pairs and note == ""
    shown, note = views.sample_pairs(pairs, limit=10, seed=0)
    assert len(shown) == 10 and {3, 17, 49} <= set(shown.index)
    assert shown.index.is_monotonic_increasing
    assert note == "Showing all 3 cliffs and a sample, 10 of 50 pairs."
    again, _ = views.sample_pairs(pairs, limit=10, seed=0)
    assert list(again.index) == list(shown.index)  # seeded
    many, note = views.sample_pairs(_pairs(20, list(range(12))), limit=10)
    assert len(many) == 12 and many["is_cliff"].all()  # more cliffs than the limit: every cliff, nothing else
    assert note == "Showing all 12 cliffs and a sample, 12 of 20 pairs."


def test_network_layout_edges_colours_and_hover():
    result = cliffs.find_cliffs([A, C, B], [1.0, 5.0, 1000.0])
    net = views.network_layout(result, [A, C, B], np.array([9.0, 8.3, 6.0]))
    nodes = net.nodes.set_index("index")
    assert sorted(nodes.index) == [0, 2] and net.n_edges == 1
    assert nodes.loc[2, "pactivity"] == 6.0 and nodes.loc[0, "degree"] == 1
    assert nodes.loc[0, "smiles"] == A and nodes.loc[2, "smiles"] == B
    ends = [nodes.loc[0, "x"], nodes.loc[0, "y"], nodes.loc[2, "x"], nodes.loc[2, "y"]]
    assert net.edges[["x", "y", "x2", "y2"]].to_numpy().tolist() == [ends]  # one segment per cliff pair
    empty = views.network_layout(cliffs.find_cliffs([A, C], [1.0, 1000.0]), [A, C], np.array([9.0, 6.0]))
    assert len(empty.nodes) == 0 and len(empty.edges) == 0 and empty.n_edges == 0


def test_analyse_cliffs_bundles_the_page():
    view = cliffs.analyse_cliffs([A, B, "C1CC("], [9.0, 7.0, 8.0], "pActivity", min_similarity=0.7)
    assert view.agreement is None and view.left_out == 1
    assert view.pactivity.tolist() == [9.0, 7.0, 8.0]
    assert len(view.result.cliffs) == 1 and view.sas_note == ""
    assert len(view.network.nodes) == 2
    labelled = cliffs.analyse_cliffs([A, B, C], [1.0, 1000.0, 5.0], labels=[1, 1, 1])
    assert labelled.agreement == pytest.approx(2 / 3)


def test_ranked_cliffs_by_sali():
    result = cliffs.find_cliffs([A, B, "CCCCCCCCCCCCCCCS"], [1.0, 100.0, 20.0])
    ranked = views.ranked_cliffs(result)
    assert len(ranked) >= 2 and ranked["sali"].is_monotonic_decreasing and ranked["is_cliff"].all()


def test_selected_pair_from_a_chart_event():
    assert views.selected_pair({"selection": {"pair": [{"index": 7}]}}) == 7
    assert views.selected_pair({"selection": {"pair": [{"index": 7.0}, {"index": 3}]}}) == 7  # the first one
    assert views.selected_pair({"selection": {"pair": []}}) is None
    assert views.selected_pair({"selection": {"pair": {}}}) is None  # what Streamlit sends before any click
    assert views.selected_pair({"selection": {"pair": [{}]}}) is None  # a click that hit no pair
    assert views.selected_pair({"selection": {"other": [{"index": 7}]}}) is None
    assert views.selected_pair({"selection": {"other": [{"index": 7}]}}, param="other") == 7
    assert views.selected_pair(None) is None and views.selected_pair({}) is None

    class Event:
        def __init__(self) -> None:
            self.selection = {"pair": [{"index": 12}]}

    assert views.selected_pair(Event()) == 12


def test_selected_pair_from_streamlits_event_object():
    from streamlit.elements.vega_charts import VegaLiteStateSerde

    serde = VegaLiteStateSerde([views.SAS_SELECTION])
    assert views.selected_pair(serde.deserialize(None)) is None
    event = serde.deserialize('{"selection": {"pair": [{"index": 5}]}}')
    assert views.selected_pair(event) == 5


def test_pair_depictions_are_svgs():
    svg_a, svg_b = views.pair_depictions("c1ccccc1CO", "c1ccccc1CN", width=200, height=150)
    assert svg_a.lstrip().startswith("<?xml") or "<svg" in svg_a
    assert "<svg" in svg_b and svg_a != svg_b


def _layers(chart) -> tuple[dict, dict[str, dict]]:
    """A layered chart's spec and its layers by mark type."""
    spec = chart.to_dict()
    return spec, {layer["mark"]["type"]: layer for layer in spec["layer"]}


def _rows(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


def test_sas_map_points_carry_the_pair_index():
    pairs = cliffs.find_cliffs([A, B, C], [1.0, 1000.0, 5.0], min_similarity=0.0).pairs.iloc[[2, 0]]
    chart = figures.sas_map_figure(pairs, "levenshtein")
    spec, layers = _layers(chart)
    rows = _rows(spec, layers["point"])
    assert sorted(r["index"] for r in rows) == sorted(pairs.index.tolist())
    assert [r["levenshtein"] for r in rows] == pairs["levenshtein"].tolist()
    encoding = layers["point"]["encoding"]
    assert encoding["x"]["field"] == "levenshtein" and encoding["x"]["title"] == "levenshtein similarity"
    assert encoding["y"]["field"] == "delta_p" and encoding["y"]["title"] == "|Δ pActivity|"
    tips = {t["field"]: t.get("format") for t in encoding["tooltip"]}
    assert tips == {"index": None, "fold_change": ".1f", "levenshtein": ".3f", "delta_p": ".2f", "sali": ".1f"}
    assert A not in chart.to_json() and B not in chart.to_json()  # no SMILES in the tooltip: the chart stays small


def test_network_and_bar_figures():
    result = cliffs.find_cliffs([A, C, B], [1.0, 5.0, 1000.0])
    spec, layers = _layers(figures.network_figure(views.network_layout(result, [A, C, B], np.array([9.0, 8.3, 6.0]))))
    nodes, edges = _rows(spec, layers["circle"]), _rows(spec, layers["rule"])
    assert [n["pactivity"] for n in nodes] == [9.0, 6.0] and len(edges) == 1
    assert {n["smiles"] for n in nodes} == {A, B} and [n["area"] for n in nodes] == pytest.approx([28.27] * 2, abs=0.01)
    assert set(layers["rule"]["encoding"]) == {"x", "y", "x2", "y2"}  # one segment per cliff pair
    assert layers["circle"]["encoding"]["color"]["legend"]["title"] == "pActivity"
    assert layers["circle"]["encoding"]["x"]["axis"] is None and spec["height"] == 520

    scores = pd.DataFrame({"model": ["KNN", "SVM"], "rmse": [1.0, 0.8], "rmse_cliff": [1.5, 1.1]})
    bars = figures.rmse_bars(scores, 300).to_dict()
    rows = bars["datasets"][bars["data"]["name"]]
    assert [(r["model"], r["metric"], r["RMSE"]) for r in rows if r["metric"] == "rmse_cliff"] == [
        ("KNN", "rmse_cliff", 1.5),
        ("SVM", "rmse_cliff", 1.1),
    ]
    # grouped bars side by side in one plain chart (a facet drew them hair-thin in Streamlit)
    assert bars["encoding"]["xOffset"]["field"] == "metric" and bars["encoding"]["x"]["field"] == "model"
    assert bars["mark"]["type"] == "bar" and bars["height"] == 300 and "facet" not in bars
    rot = pd.DataFrame({"model": ["RF"], "rmse_original": [1.0], "rmse_rotated": [1.4], "ratio": [1.4]})
    spec = figures.rotation_bars(rot).to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["features"], r["value"]) for r in rows] == [("rmse_original", 1.0), ("rmse_rotated", 1.4)]
    assert spec["encoding"]["xOffset"]["field"] == "features" and spec["encoding"]["y"]["title"] == "test RMSE"


def test_pair_summary_line():
    row = pd.Series(
        {"fold_change": 100.0, "delta_p": 2.0, "tanimoto": 0.5, "scaffold": 1.0, "levenshtein": 0.9375, "sali": 4.0}
    )
    assert figures.pair_summary(row) == (
        "Fold change **100.0×** · |Δ pActivity| 2.00 · Tanimoto 0.50 · scaffold 1.00 · Levenshtein 0.94 · SALI 4.0"
    )


def test_target_scores_and_long_form(tmp_path):
    path = tmp_path / "cliffs.csv"
    pd.DataFrame(
        {"model": ["KNN", "KNN"], "rmse": [1.0, 2.0], "rmse_cliff": [1.5, 2.5], "dataset": ["T1", "T2"]}
    ).to_csv(path, index=False)
    one = results.target_scores("T2", path)
    assert one["rmse"].tolist() == [2.0]
    assert results.target_scores("T3", path).empty and results.target_scores(None, path).empty
    assert results.target_scores("T1", tmp_path / "missing.csv").empty
    long = results.rmse_long(one)
    assert long.to_dict("records") == [
        {"model": "KNN", "metric": "rmse", "RMSE": 2.0},
        {"model": "KNN", "metric": "rmse_cliff", "RMSE": 2.5},
    ]


def test_moleculeace_input_and_pair_predictions():
    frame, labels = live.moleculeace_input("CHEMBL2835_Ki")
    assert list(frame.columns) == ["smiles", "potency", "split"] and len(frame) == len(labels) == 615
    assert labels.dtype == bool and labels.sum() > 0
    preds = pd.DataFrame({"smiles": ["C"], "y": [-1.0], "cliff_mol": [True], "split": ["test"], "KNN": [-1.5]})
    table, split = live.pair_predictions(preds, 0)
    assert split == "test"
    assert table.to_dict("records") == [{"model": "KNN", "predicted pActivity": 7.5, "error": -0.5}]


def test_train_live_predicts_only_used_rows():
    smiles = [A, B, "CCCCCCCCCCCCCCCS", "CCCCCCCCCCCCCCCC", "C1CC(", "CCCCCCCCCCCCCCCCl", "c1ccccc1CO", "c1ccccc1CN"]
    frame = pd.DataFrame({"smiles": smiles, "potency": [8.0, 6.0, 7.0, 6.5, 7.0, 7.2, 5.0, 5.5]})
    result = cliffs.find_cliffs(frame["smiles"], frame["potency"], "pActivity")
    scores, preds = live.train_live(frame, result, "pActivity", ["KNN"])
    assert len(preds) == 8 and preds.loc[4].isna().all()  # the unparsable row is left out
    used = preds.drop(index=4)
    assert used["y"].astype(float).tolist() == pytest.approx([p - 9 for p in frame["potency"].drop(index=4)])
    assert set(used["split"]) == {"train", "test"} and used["KNN"].notna().all()
    assert list(scores.columns) == ["model", "rmse", "rmse_cliff", "n_test", "n_cliff_test", "seconds"]
    with pytest.raises(ValueError, match="covers 8 rows but the frame has 7"):
        live.train_live(frame.head(7), result, "pActivity", ["KNN"])


def test_ifm_curves():
    curves = lab.ifm_curves(8.0, 4)
    assert curves.frequencies == pytest.approx([1.0, 8**0.25, 8**0.5, 8**0.75])
    components = [f"{f} c{j}" for f in ("cos", "sin") for j in range(4)]
    assert list(curves.encoding.columns) == [*components, "x"]
    assert len(curves.encoding) == 201 and curves.encoding["cos c0"].iloc[0] == pytest.approx(1.0)
    at_zero = curves.kernel.loc[curves.kernel["δ"].abs().idxmin(), "kernel"]
    assert len(curves.kernel) == 401 and at_zero == pytest.approx(1.0)
    kernel = figures.ifm_kernel_figure(curves.kernel).to_dict()
    points = kernel["datasets"][kernel["data"]["name"]]
    assert points[200]["δ"] == pytest.approx(0.0, abs=1e-6) and points[200]["kernel"] == pytest.approx(1.0)
    assert kernel["encoding"]["x"]["field"] == "δ" and kernel["encoding"]["y"]["field"] == "kernel"
    encoding = figures.ifm_encoding_figure(curves.encoding).to_dict()
    rows = encoding["datasets"][encoding["data"]["name"]]
    assert len({r["component"] for r in rows}) == 8 and len(rows) == 8 * 201
    assert encoding["encoding"]["color"]["field"] == "component" and encoding["mark"]["type"] == "line"


def test_lab_frame_caps_training_but_keeps_the_test_split():
    frame = lab.lab_frame("CHEMBL2835_Ki", 60)
    assert (frame["split"] == "train").sum() == 60 and (frame["split"] == "test").sum() == 126
    assert list(frame.index) == list(range(len(frame)))
