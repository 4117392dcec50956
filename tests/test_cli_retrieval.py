"""``workbench search`` and ``workbench describe`` with a tiny dual encoder; ``train retrieval`` arguments."""

from __future__ import annotations

import pandas as pd

from tests.retrieval_fixtures import NAME, pairs_frame, tiny_model  # noqa: F401  (module-scoped fixture)
from workbench.cli import build_parser, main
from workbench.retrieval import library as retrieval_library
from workbench.retrieval import search as retrieval_search


def test_search_a_file_library_ranked_by_score(tiny_model, tmp_path, capsys):  # noqa: F811
    lib = tmp_path / "lib.smi"
    lib.write_text("CCCCCCCCCC decane\nc1ccc2ccccc2c1 naphthalene\nC1CC( broken\nOCCO glycol\n")
    out = tmp_path / "hits.csv"
    code = main(["search", "The molecule is a naphthalene number 19.", "--library", str(lib), "-k", "2",
                 "--model", NAME, "-o", str(out)])  # fmt: skip
    assert code == 0
    hits = pd.read_csv(out)
    assert list(hits.columns[:2]) == ["rank", "score"] and len(hits) == 2
    assert hits.loc[0, "name"] == "naphthalene" and hits["score"].is_monotonic_decreasing
    assert "1 could not be embedded" in capsys.readouterr().err


def test_describe_prints_ranked_descriptions(tiny_model, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr(retrieval_library, "load_chebi20", lambda **_: type("D", (), {"frame": pairs_frame()})())
    retrieval_search._CORPUS.clear()
    assert main(["describe", "c1ccc2ccccc2c1", "-k", "2", "--model", NAME]) == 0
    text = capsys.readouterr().out
    assert text.startswith("1. score") and "2. score" in text and "naphthalene" in text
    assert main(["describe", "C1CC(", "--model", NAME]) == 1
    assert "cannot use" in capsys.readouterr().err
    retrieval_search._CORPUS.clear()


def test_search_with_an_unknown_model_fails_cleanly(tiny_model, capsys):  # noqa: F811
    assert main(["search", "anything", "--model", "no_such_model"]) == 1
    assert "no retrieval checkpoint named 'no_such_model'" in capsys.readouterr().err


def test_train_retrieval_flags_map_to_the_ablation_switches():
    args = build_parser().parse_args(
        ["train", "retrieval", "--split", "scaffold", "--no-s2p", "--no-er", "-p", "0.25", "-k", "10", "--epochs", "2"]
    )
    assert args.split == "scaffold" and args.no_s2p and args.no_er and not args.no_augment
    assert (args.aug_p, args.aug_k, args.epochs, args.tau1, args.alpha) == (0.25, 10, 2, 0.1, 1.0)


def test_train_retrieval_encoder_flags():
    args = build_parser().parse_args(
        ["train", "retrieval", "--text-trainable-layers", "1", "--init-encoder", "bace_gin"]
    )
    assert (args.text_trainable_layers, args.text_lr, args.init_encoder) == (1, 5e-5, "bace_gin")
    assert args.num_layer is None and args.emb_dim is None  # taken from the --init-encoder's card (else 3, 256)
    defaults = build_parser().parse_args(["train", "retrieval"])
    assert defaults.text_trainable_layers == 0 and defaults.init_encoder is None  # MiniLM frozen, GIN from scratch


def test_train_retrieval_refuses_a_gin_size_that_does_not_fit_the_init_encoder(capsys):
    assert main(["train", "retrieval", "--init-encoder", "bace_gin", "--num-layer", "3"]) == 2
    assert "--num-layer 3 does not fit bace_gin (5)" in capsys.readouterr().err
