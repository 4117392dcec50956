"""``workbench models list`` (every checkpoint, its headline metrics), ``add-references``, ``calibrate``, ``remove``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.models import Checkpoint

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="checkpoints: list what is registered")
    verbs = models.add_subparsers(dest="models_verb", metavar="ACTION")
    lst = verbs.add_parser("list", help="show each registered checkpoint with its tasks and test metrics")
    lst.add_argument("--markdown", action="store_true", help="print a Markdown table (used for the README)")
    lst.set_defaults(func=run_list)
    refs = verbs.add_parser(
        "add-references",
        help="store the domain index and approved-drug percentiles (a retrieval checkpoint: the approved-drug "
        "embeddings and the score reference) in checkpoint folders made without them",
    )
    refs.add_argument("names", nargs="*", help="checkpoint names (default: every predictor lacking them)")
    refs.add_argument("--force", action="store_true", help="recompute even where the card lists them")
    refs.set_defaults(func=run_add_references)
    cal = verbs.add_parser(
        "calibrate",
        help="fit calibrated probabilities (Platt or isotonic) and 90 %% conformal intervals on each checkpoint's "
        "validation split, measure them on its test split, and store them in its card",
    )
    cal.add_argument("names", nargs="*", help="checkpoint names (default: every one that can be calibrated)")
    cal.add_argument("--report", type=Path, help="write the Markdown report here (and a reliability PNG beside it)")
    cal.add_argument("--dry-run", action="store_true", help="measure and report, but leave the cards as they are")
    cal.add_argument(
        "--report-only", action="store_true",
        help="rewrite --report from the calibration blocks stored in the cards (the figure is kept as it is)",
    )  # fmt: skip
    cal.set_defaults(func=run_calibrate)
    rm = verbs.add_parser("remove", help="delete a model you trained (`workbench train custom`); never a shipped one")
    rm.add_argument("name", help="the model's name")
    rm.set_defaults(func=run_remove)
    models.set_defaults(func=lambda _args: models.print_help() or 2)


def run_remove(args: argparse.Namespace) -> int:
    """Delete a user model's folder; a shipped or unknown name is one line on stderr and exit status 2."""
    import sys

    from workbench.custom.checkpoint import ModelNameError, remove_user_model

    try:
        folder = remove_user_model(args.name)
    except ModelNameError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"removed {folder}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the table of valid checkpoints; the skipped folders (path and reason) go to stderr."""
    import sys

    from workbench.models import find_checkpoints, models_dirs
    from workbench.models.zoo import card_rows

    checkpoints, problems = find_checkpoints()
    if not checkpoints:
        print("no checkpoints registered in: " + ", ".join(map(str, models_dirs())))
    table = card_rows(checkpoints)
    if args.markdown and checkpoints:
        print(table.drop(columns=["command"]).to_markdown(index=False))
    elif checkpoints:
        print(table.drop(columns=["command"]).to_string(index=False))
    if problems:
        print(f"skipped {len(problems)} checkpoint folder(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 0


def _chosen(names: list[str], default: Callable[[Checkpoint], bool] = lambda _c: True) -> list[Checkpoint] | None:
    """The checkpoints ``names`` names, or every predictor that ``default`` keeps; ``None`` (said) for unknown ones."""
    import sys

    from workbench.models import find_checkpoints
    from workbench.models.builders import can_predict

    checkpoints, _ = find_checkpoints()
    by_name = {c.name: c for c in checkpoints}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        print(f"unknown checkpoint(s): {', '.join(unknown)}", file=sys.stderr)
        return None
    return [by_name[n] for n in names] or [c for c in checkpoints if can_predict(c) and default(c)]


def run_add_references(args: argparse.Namespace) -> int:
    from workbench.predict.references import store_references

    chosen = _chosen(args.names)
    if chosen is None:
        return 2
    for checkpoint in chosen:
        card = checkpoint.card
        if card.architecture.type == "dual_encoder":
            _add_library_embeddings(checkpoint, args.force)
            _add_score_reference(checkpoint, args.force)
            continue
        if not args.force and card.reference("percentile_reference") and card.reference("domain_index"):
            print(f"{checkpoint.name}: already has its reference files")
            continue
        store_references(checkpoint.path, log=lambda msg: print(msg, flush=True))
    return 0


def _add_library_embeddings(checkpoint, force: bool) -> None:
    """A retrieval checkpoint's reference files: the shipped libraries' embeddings (approved drugs, ChEBI-20)."""
    from workbench.retrieval import load_retriever
    from workbench.retrieval.library import LIBRARY_KINDS, store_library_embeddings

    for library, kind in LIBRARY_KINDS.items():
        if not force and checkpoint.card.reference(kind):
            print(f"{checkpoint.name}: already has its {library} library embeddings")
            continue
        try:
            card = store_library_embeddings(load_retriever(checkpoint), library)
        except FileNotFoundError as exc:
            print(f"{checkpoint.name}: no {library} library embeddings ({exc})")
            continue
        entry = card.reference(kind)
        print(f"{checkpoint.name}: stored {entry.file} ({entry.molecules:,} molecules)")


def _add_score_reference(checkpoint, force: bool) -> None:
    """A retrieval checkpoint's score reference: random-pair quantiles and class metrics on its validation part."""
    from workbench.models import load_card
    from workbench.retrieval import load_retriever
    from workbench.retrieval.calibration import SCORE_REFERENCE, store_score_reference
    from workbench.retrieval.corpus import corpus_frame, retrieval_split

    if not force and load_card(checkpoint.path).reference(SCORE_REFERENCE):
        print(f"{checkpoint.name}: already has its score reference")
        return
    split_card = checkpoint.card.split
    try:
        frame = corpus_frame()
    except FileNotFoundError as exc:
        print(f"{checkpoint.name}: no score reference ({exc})")
        return
    split = retrieval_split(frame, split_card.kind, split_card.seed if split_card.seed is not None else 0)
    card = store_score_reference(load_retriever(checkpoint), frame, split.valid, part="valid", split=split.describe())
    entry = card.reference(SCORE_REFERENCE)
    print(f"{checkpoint.name}: stored {entry.file} ({entry.molecules:,} validation pairs)")


def run_calibrate(args: argparse.Namespace) -> int:
    """Calibrate the chosen checkpoints (one line each), store the blocks, and write the report."""
    import shlex
    import sys

    from workbench.calibrate.checkpoint import calibrate_checkpoint, calibration_refusal, store_calibration

    chosen = _chosen(args.names, lambda c: calibration_refusal(c.card) is None)
    if chosen is None:
        return 2
    command = "workbench " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["models"] else "workbench models calibrate"
    if args.report_only:
        return _report_from_cards(chosen, args.report)
    results, failed = [], 0
    for checkpoint in chosen:
        try:
            result = calibrate_checkpoint(checkpoint, command=command)
        except (ValueError, KeyError, FileNotFoundError) as exc:
            print(f"{checkpoint.name}: not calibrated: {exc}", file=sys.stderr)
            failed += 1
            continue
        results.append(result)
        if not args.dry_run:
            store_calibration(checkpoint.path, result.block)
        methods = ", ".join(sorted({e["method"] for e in result.tasks}))
        print(f"{checkpoint.name}: {len(result.tasks)} task(s), {methods}{' (not stored)' if args.dry_run else ''}")
    if args.report and results:
        _write_calibration_report(results, args.report, command)
    return 1 if failed and not results else 0


def _report_from_cards(chosen: list[Checkpoint], path: Path | None) -> int:
    """``--report-only``: the report of the blocks already in the cards, with the command that stored them."""
    import sys

    from workbench.calibrate.checkpoint import CalibrationResult

    if path is None:
        print("--report-only needs --report PATH", file=sys.stderr)
        return 2
    results = [CalibrationResult(c.name, c.card.calibration) for c in chosen if c.card.calibration]
    if not results:
        print("no card has a calibration block: run `workbench models calibrate` first", file=sys.stderr)
        return 1
    commands = list(dict.fromkeys(r.block.get("command", "") for r in results if r.block.get("command")))
    _write_calibration_report(results, path, " ; ".join(commands), keep_figure=True)
    return 0


def _write_calibration_report(results, path: Path, command: str, keep_figure: bool = False) -> None:
    import os
    import platform

    from workbench.calibrate.report import reliability_figure, report_markdown

    png = path.with_suffix(".png")
    figure = (png if png.is_file() else None) if keep_figure else reliability_figure(results, png)
    machine = f"{platform.node()} ({os.cpu_count()} CPUs, Python {platform.python_version()})"
    path.parent.mkdir(parents=True, exist_ok=True)
    note = (
        "The figure is the one the last full calibration run drew (`--report-only` keeps it): checkpoints calibrated "
        "since are in the tables only."
        if keep_figure
        else ""
    )
    path.write_text(report_markdown(results, command, machine, figure.name if figure else None, note))
    print(path)
