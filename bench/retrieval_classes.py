"""Class-level retrieval test, drug-class check and a nonsense query for one retrieval checkpoint.

Run: ``python -m bench.retrieval_classes [--model retrieval_amole] [--store-reference]``; ``--report-only``
rewrites ``bench/results/retrieval.md`` from the stored records.

For a checkpoint (default the shipped ``retrieval_amole``) on the split its card names (cid, seed 0 for the
shipped one):

* the class-level test of :mod:`workbench.retrieval.classes` on the validation and on the test molecules:
  every class phrase with at least 5 molecules in the part, queried against that part's molecules only;
  ROC-AUC and average precision per class, and their means;
* the drug-class check (:mod:`workbench.retrieval.drug_classes`): the top 10 approved drugs for each of the
  three queries and how many belong to the asked class (member lists written from public knowledge, used only
  here and in tests);
* :data:`NONSENSE_QUERY` against the approved drugs: its best score, that score's percentile among random
  pairs (the checkpoint's score reference) and whether the page would say "no strong match".

``--store-reference`` first (re)computes the checkpoint's score reference on its validation part and stores it
beside the weights (what ``workbench models add-references --force`` does). The record is one JSON file under
``bench/results/cache/retrieval/classes/``; :func:`evaluate_checkpoint` is also what the tower comparison of
:mod:`bench.retrieval` runs on each trained cell.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.retrieval import CACHE, _store, machine

CLASSES_CACHE = CACHE / "classes"
#: The issue's nonsense query: the page must say "no strong match" instead of showing ten confident hits.
NONSENSE_QUERY = "a purple elephant that sings"


def _table(table) -> list[dict]:
    return json.loads(table.to_json(orient="records"))


def evaluate_checkpoint(retriever, frame, split, *, parts: Sequence[str] = ("valid", "test")) -> dict:
    """Class-level test on ``parts`` of ``split``, the drug-class check and the nonsense query, for a retriever.

    Args:
        retriever: a loaded :class:`workbench.retrieval.Retriever`.
        frame: the corpus pairs (:func:`workbench.retrieval.corpus.corpus_frame`), the rows ``split`` refers to.
    """
    from workbench.retrieval.calibration import load_score_reference
    from workbench.retrieval.classes import class_summary, class_task, evaluate_classes
    from workbench.retrieval.drug_classes import drug_check
    from workbench.retrieval.search import text_search

    out: dict = {"classes": {}}
    for part in parts:
        t0 = time.time()
        task = class_task(frame, getattr(split, part), part=part)
        table = evaluate_classes(retriever, frame, task)
        out["classes"][part] = {
            "summary": class_summary(table),
            "molecules": len(task.rows),
            "per_class": _table(table),
            "seconds": time.time() - t0,
        }
    try:
        out["drugs"] = _table(drug_check(10, retriever=retriever))
    except FileNotFoundError as exc:  # no approved-drug table here
        out["drugs"] = {"skipped": str(exc)}
    reference = load_score_reference(retriever)
    if reference is not None and isinstance(out["drugs"], list):
        search = text_search(NONSENSE_QUERY, "drugs", 10, retriever=retriever, snippets=False)
        out["nonsense"] = {
            "query": NONSENSE_QUERY,
            "best_score": float(search.hits["score"].iloc[0]),
            "best_percentile": search.best_percentile,
            "strong": search.strong,
            "strong_percentile": reference.strong_percentile,
            "strong_score": reference.strong_score,
            "message": search.message,
        }
        out["drug_verdicts"] = {
            row["key"]: {
                "best_percentile": float(reference.percentile(row["best_score"])),
                "strong": reference.is_strong(row["best_score"]),
            }
            for row in out["drugs"]
        }
        out["score_reference"] = {
            k: reference.meta.get(k) for k in ("part", "random_pairs", "matched_pairs", "molecules", "class_summary")
        }
        out["score_reference"]["matched_median"] = reference.matched_median()
    return out


def record_path(model: str, cache: Path = CLASSES_CACHE) -> Path:
    return cache / f"{model}.json"


def run(model: str = "retrieval_amole", *, store_reference: bool = False, command: str = "") -> Path:
    """Evaluate a registered checkpoint (name or folder) and store its record; returns the record's path."""
    from workbench.models import Checkpoint, load_card
    from workbench.retrieval import load_retriever
    from workbench.retrieval.calibration import store_score_reference
    from workbench.retrieval.corpus import corpus_frame, retrieval_split

    folder = Path(model)
    checkpoint = Checkpoint(folder, load_card(folder)) if (folder / "card.json").is_file() else model
    retriever = load_retriever(checkpoint, device="cpu")
    card = retriever.checkpoint.card
    used, t0 = machine(), time.time()
    frame = corpus_frame()
    split = retrieval_split(frame, card.split.kind, card.split.seed if card.split.seed is not None else 0)
    if store_reference:
        store_score_reference(retriever, frame, split.valid, part="valid", split=split.describe())
    record = {
        "model": retriever.name,
        "model_hash": retriever.model_hash,
        "card_command": card.command,
        "split": split.describe(),
        **evaluate_checkpoint(retriever, frame, split),
        "seconds": time.time() - t0,
        "machine": used,
        "command": command,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    path = record_path(retriever.name)
    _store(path, record)
    return path


def card_summary(card) -> dict:
    """What the report shows of a checkpoint's card (kept in a record, so it outlives the checkpoint)."""
    metrics, training = card.metrics, card.training or {}
    return {
        "command": card.command,
        "description": card.description,
        "valid_mrr": (metrics["valid"]["text2mol_mrr"].mean + metrics["valid"]["mol2text_mrr"].mean) / 2,
        "test_text2mol_mrr": metrics["test"]["text2mol_mrr"].mean,
        "text_trainable_layers": training.get("text_trainable_layers", 0),
        "select": training.get("select", "mrr"),
        "epochs": training.get("epochs"),
        "towers": training.get("towers") or ["gin"],
    }


def keep_as_previous(model: str = "retrieval_amole", name: str = "", cache: Path = CLASSES_CACHE) -> Path:
    """Copy a shipped checkpoint's record, with a summary of its card, to ``name`` before the checkpoint is
    replaced: the report then compares the new shipped model with it (the model the issue measured)."""
    from workbench.retrieval import load_retriever

    record = json.loads(record_path(model, cache).read_text())
    retriever = load_retriever(model, device="cpu")
    card = retriever.checkpoint.card
    if record.get("model_hash") != retriever.model_hash:
        raise ValueError(f"the record of {model} is of other weights than the shipped card's: evaluate it again first")
    kept = {**record, "model": name, "previous": model, "card_summary": card_summary(card)}
    path = record_path(name, cache)
    _store(path, kept)
    return path


def load_class_records(cache: Path = CLASSES_CACHE) -> dict[str, dict]:
    """The stored records by model name."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(cache).glob("*.json"))}


def _fmt(value) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def classes_section(records: dict[str, dict]) -> list[str]:
    """The report's class-level section: one summary row per model and part, the drug check, the nonsense query,
    and per-class tables in an appendix (returned second)."""
    if not records:
        return []
    lines = [
        "## Class-level test, drug-class check and a nonsense query",
        "",
        "Made by `python -m bench.retrieval_classes` (records in `bench/results/cache/retrieval/classes/`). Classes "
        "are read from the ChEBI-20 descriptions by pattern (`workbench/retrieval/classes.py`: the head noun of "
        "*The molecule is a X that …*, the items of *It is a A, a B and a C.* and of *It has a role as …*), a "
        "molecule belongs to a class when one of its descriptions yields the phrase, and a class is kept when at "
        "least 5 molecules of the part belong to it. Each class's phrase (with its article, as written) is the "
        "query; it scores every molecule of the part (the model never trained on these descriptions), and "
        "ROC-AUC and average precision (AP) measure how well the scores separate members. Random ranking: "
        "ROC-AUC 0.5, AP = the class's share of the part (mean given as *chance AP*).",
        "",
        "| model | part | molecules | classes | mean ROC-AUC | mean AP | chance AP |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, record in records.items():
        for part, block in record["classes"].items():
            s = block["summary"]
            lines.append(
                f"| {name} | {part} | {block['molecules']} | {s['classes']} | {_fmt(s['mean_roc_auc'])} | "
                f"{_fmt(s['mean_average_precision'])} | {_fmt(s['mean_prevalence'])} |"
            )
    lines += [
        "",
        "Drug-class check: the top 10 of the approved-drug library (2,628 rows, salt forms merged into one hit) "
        "for each query, and how many belong to the class (member lists in `workbench/retrieval/drug_classes.py`, "
        "written from public pharmacological knowledge and used only for this check). *best pct*: the best hit's "
        "percentile among random validation description–molecule pairs (the checkpoint's score reference); the "
        "page calls a search a strong match from the 99th.",
        "",
        "| model | query | members in top 10 | best score | best pct | top 10 (members marked *) |",
        "|---|---|---|---|---|---|",
    ]
    for name, record in records.items():
        if not isinstance(record.get("drugs"), list):
            lines.append(f"| {name} | — | skipped: {record.get('drugs', {}).get('skipped', '?')} | | | |")
            continue
        verdicts = record.get("drug_verdicts", {})
        for row in record["drugs"]:
            pct = verdicts.get(row["key"], {}).get("best_percentile")
            top = "; ".join(str(t).replace("|", "/") for t in row["top"])
            lines.append(
                f"| {name} | {row['query']} | {row['members_in_top']} / {row['k']} | {row['best_score']:.3f} | "
                f"{'—' if pct is None else f'{pct:.1f}'} | {top} |"
            )
    nonsense = [(n, r["nonsense"]) for n, r in records.items() if r.get("nonsense")]
    if nonsense:
        lines += ["", f"Nonsense query *{NONSENSE_QUERY}* against the approved drugs:", ""]
        for name, n in nonsense:
            verdict = "strong match (wrong)" if n["strong"] else "**no strong match**"
            lines.append(
                f"- {name}: best score {n['best_score']:.3f} = percentile {n['best_percentile']:.1f} of random pairs "
                f"(strong from the {n['strong_percentile']:g}th = {n['strong_score']:.3f}): {verdict}."
            )
    refs = [(n, r["score_reference"]) for n, r in records.items() if r.get("score_reference")]
    for name, ref in refs:
        lines += [
            "",
            f"Score reference of {name}: {ref['random_pairs']:,} random pairs (each of the {ref['molecules']} "
            f"{ref['part']} descriptions against every {ref['part']} molecule it does not describe); a molecule's own "
            f"{ref['part']} description scores {ref['matched_median']:.3f} (median of {ref['matched_pairs']}).",
        ]
    lines += [""]
    return lines


def classes_appendix(records: dict[str, dict]) -> list[str]:
    """Per-class ROC-AUC and AP of every record, by part."""
    lines = []
    for name, record in records.items():
        for part, block in record["classes"].items():
            lines += [
                f"### {name}, {part} molecules: per class",
                "",
                "| class query | members | ROC-AUC | AP | chance AP |",
                "|---|---|---|---|---|",
            ]
            for row in sorted(block["per_class"], key=lambda r: (-r["roc_auc"], r["query"])):
                lines.append(
                    f"| {row['query']} | {row['members']} | {_fmt(row['roc_auc'])} | "
                    f"{_fmt(row['average_precision'])} | {_fmt(row['prevalence'])} |"
                )
            lines.append("")
    return (["## Appendix: the class-level test per class", "", *lines]) if lines else []


def main(argv: Sequence[str] | None = None) -> None:
    from bench.retrieval_report import write_report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="retrieval_amole", help="a registered retrieval checkpoint or its folder")
    parser.add_argument("--store-reference", action="store_true", help="(re)store the checkpoint's score reference")
    parser.add_argument("--report-only", action="store_true", help="no evaluation: rewrite the report")
    parser.add_argument(
        "--keep-as",
        metavar="NAME",
        help="before re-shipping: keep the model's record (and a summary of its card) as NAME, the previous model",
    )
    args = parser.parse_args(argv)
    if args.keep_as:
        print(f"wrote {keep_as_previous(args.model, args.keep_as)}")
        write_report()
        return
    import torch

    torch.set_num_threads(1)
    if not args.report_only:
        command = shlex.join(["python", "-m", "bench.retrieval_classes", *(sys.argv[1:] if argv is None else argv)])
        print(f"wrote {run(args.model, store_reference=args.store_reference, command=command)}")
    write_report()


if __name__ == "__main__":
    main()
