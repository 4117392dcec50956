"""The report of :mod:`bench.own_data`: each cell beside the best model of ``cliffs.md`` and the issue's criteria."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cells import report_head
from bench.own_data import CELLS, CLIFFS, EFFORTS, TARGETS, WITHIN, grid_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["best_in_cliffs", "report"]


def best_in_cliffs(path: Path = CLIFFS) -> pd.DataFrame:
    """Per MoleculeACE target, the model of ``cliffs.csv`` with the lowest test RMSE and the lowest RMSE_cliff."""
    import pandas as pd

    frame = pd.read_csv(path)
    frame = frame[frame["table"] == "moleculeace"]
    best = frame.loc[frame.groupby("dataset")["rmse"].idxmin()].set_index("dataset")
    cliff = frame.loc[frame.groupby("dataset")["rmse_cliff"].idxmin()].set_index("dataset")
    best = best[["model", "rmse", "rmse_cliff", "n_test", "n_cliff_test"]]
    return best.assign(best_cliff_model=cliff["model"], best_rmse_cliff=cliff["rmse_cliff"])


def _f(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _cell(cells: pd.DataFrame, target: str, effort: str):
    sub = cells[(cells["target"] == target) & (cells["effort"] == effort)]
    return None if sub.empty else sub.iloc[-1]


def report(cells: pd.DataFrame, *, command: str, machine: str) -> str:
    """The markdown report: per target and effort the measured cells, then the comparison with cliffs.md."""
    import pandas as pd

    if command.endswith("--report-only"):
        command = (
            f"python -m bench.own_data` (resumable, one cell per target × effort); this report rewritten from the "
            f"stored cells by `{command}"
        )
    lines = report_head("Your own data: `workbench train custom` on five MoleculeACE targets", command, machine)
    if cells.empty:
        return "\n".join([*lines, "No cell has finished yet."]) + "\n"
    seeds = sorted({int(s) for s in cells["seed"]})
    lines += [
        "Each target is treated as a chemist's own assay file (`smiles`, `exp_mean [nM]`, MoleculeACE's `split`) and",
        'trained with the library calls of `workbench train custom FILE --target "exp_mean [nM]" --transform',
        f"pIC50-from-nM --split column:split --effort quick|thorough --seed {' '.join(map(str, seeds))}` (each cell's",
        "`command` in the CSV). MoleculeACE's split has no validation part, so a seeded 10 % of its training",
        "molecules scores the candidates fitted on the rest; the test molecules are MoleculeACE's, the ones",
        "`cliffs.md` scores. Quick keeps the candidate best on validation. Thorough cross-fits (5 folds over train +",
        "validation) the best candidate of each of the three best (family, features) pairs on validation and keeps",
        "whichever of them, or of the means of the best two and three, has the best out-of-fold score. Test RMSE in",
        "pIC50 units with its bootstrap 95 % interval (1,000 resamples of the test molecules); RMSE on cliff",
        "molecules (MoleculeACE's rules over the whole set, as `cliffs.md`); coverage of the 90 % conformal interval",
        "on the test molecules; wall seconds from reading the file to the test metrics, with the `jobs` CPU workers",
        "of each cell's CSV row for forests and boosters (the GIN and MiniMol use PyTorch's threads). A single chosen",
        "candidate is refitted with 1 seed (quick) or 3 seeds (thorough; SVR is deterministic: one member); a mean",
        "with 1 seed per component. The candidates, as the code defines them now (each cell's `grid` column in the",
        "CSV records what it searched, its `code` column the commit it ran at):",
        "",
        f"- quick: {grid_text('quick')}",
        f"- thorough adds: {grid_text('thorough')[len(grid_text('quick')) + 2 :]}",
        "",
        "## Targets",
        "",
        "| target | why |",
        "|---|---|",
        *[f"| {t} | {why} |" for t, why in TARGETS.items() if t in set(cells["target"])],
        "",
        "## Measured",
        "",
        "| target | effort | molecules (test / cliff) | test RMSE [95 % CI] | RMSE cliff mol. | RMSE other mol. | "
        "coverage (90 %) | ± half-width | wall s | chosen |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    targets = [t for t in dict.fromkeys(cells["target"])]
    for target in targets:
        for effort in EFFORTS:
            c = _cell(cells, target, effort)
            if c is None:
                continue
            single = int(c.get("components", 1) if not _missing(c.get("components")) else 1) == 1
            chosen = c["chosen"] + (f", {int(c['members'])} seeds" if single and int(c["members"]) > 1 else "")
            lines.append(
                f"| {target} | {effort} | {int(c['molecules'])} ({int(c['n_test'])} / {int(c['n_test_cliff'])}) | "
                f"{_f(c['rmse'])} [{_f(c['rmse_ci_lo'])}, {_f(c['rmse_ci_hi'])}] | {_f(c['rmse_cliff'])} | "
                f"{_f(c['rmse_non_cliff'])} | {_f(c['coverage'], 2)} | {_f(c['interval_halfwidth'], 2)} | "
                f"{c['seconds_wall']:.0f} | {chosen} |"
            )
    best = best_in_cliffs() if CLIFFS.is_file() else None
    lines += [
        "",
        "## Against the best model of `cliffs.md`",
        "",
        "Best = the model of `bench/results/cliffs.csv` with the lowest test RMSE on that target (MoleculeACE's",
        f"split, seed 0). *Within 10 %*: quick RMSE ≤ {WITHIN:.2f} × best RMSE. *Thorough ≤ quick*: thorough test",
        "RMSE ≤ quick test RMSE (the issue's two done criteria).",
        "",
        "| target | best in cliffs.md: RMSE (RMSE_cliff) | lowest RMSE_cliff in cliffs.md | quick RMSE (RMSE_cliff) | "
        "quick / best | within 10 % | thorough RMSE (RMSE_cliff) | thorough / best | thorough ≤ quick |",
        "|---|---|---|---:|---:|---|---:|---:|---|",
    ]
    within_all, thorough_all, misses = [], [], []
    for target in targets:
        q, t = _cell(cells, target, "quick"), _cell(cells, target, "thorough")
        if best is None or target not in best.index:
            lines.append(f"| {target} | – (not in cliffs.csv) | | | | | | | |")
            continue
        b = best.loc[target]
        best_text = f"{b['model']} {_f(b['rmse'])} ({_f(b['rmse_cliff'])})"
        if q is not None and int(q["n_test"]) != int(b["n_test"]):
            best_text += f"; n test {int(b['n_test'])} vs our {int(q['n_test'])}"
        row = [target, best_text, f"{b['best_cliff_model']} {_f(b['best_rmse_cliff'])}"]
        if q is not None:
            ok = bool(q["rmse"] <= WITHIN * b["rmse"])
            within_all.append(ok)
            row += [
                f"{_f(q['rmse'])} ({_f(q['rmse_cliff'])})",
                f"{q['rmse'] / b['rmse']:.3f}",
                "yes" if ok else "**no**",
            ]
            if not ok:
                misses.append(f"{target}: quick {q['rmse']:.3f} is {q['rmse'] / b['rmse']:.2f}× {b['model']}'s")
        else:
            row += ["–", "–", "–"]
        if t is not None:
            row += [f"{_f(t['rmse'])} ({_f(t['rmse_cliff'])})", f"{t['rmse'] / b['rmse']:.3f}"]
            if q is not None:
                ok = bool(t["rmse"] <= q["rmse"])
                thorough_all.append(ok)
                row.append("yes" if ok else f"**no** (+{t['rmse'] - q['rmse']:.3f})")
                if not ok:
                    misses.append(
                        f"{target}: thorough {t['rmse']:.3f} > quick {q['rmse']:.3f} on the test molecules; its choice "
                        f"({t['chosen']}) scored best {_why(t)}"
                    )
            else:
                row.append("–")
        else:
            row += ["–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    n = len(targets)
    lines += [
        "",
        "## Done criteria",
        "",
        f"- quick within 10 % of the best `cliffs.md` model: {sum(within_all)} of {len(within_all)} targets"
        + (" (held)" if within_all and all(within_all) and n >= 5 else ""),
        f"- thorough at least as good as quick: {sum(thorough_all)} of {len(thorough_all)} targets"
        + (" (held)" if thorough_all and all(thorough_all) and n >= 5 else ""),
    ]
    if misses:
        lines += ["", "Where we miss:", "", *[f"- {m}" for m in misses]]
    cost = cells.groupby("effort")["seconds_wall"].sum()
    lines += [
        "",
        "## Cost",
        "",
        "Wall seconds summed over the targets: "
        + ", ".join(f"{e} {cost[e]:.0f} s" for e in EFFORTS if e in cost.index)
        + f". 1-minute load average at the start of each cell: {', '.join(_f(x, 1) for x in cells['load_at_start'])}"
        " (the machine's CPUs were shared with another job).",
        "",
        "Our cliff flags against MoleculeACE's `cliff_mol` on the test molecules: "
        + ", ".join(f"{r.target} {r.cliff_flags_agree}" for r in cells.drop_duplicates("target").itertuples())
        + ".",
        "",
        "Code (the `code` column: commit, `+changes` for local edits of the training code): "
        + ", ".join(
            f"{code} ({n} cells)"
            for code, n in cells.get("code", pd.Series(dtype=object))
            .astype(object)
            .fillna("not recorded")
            .value_counts(sort=False)
            .items()
        )
        + ".",
        *_grid_notes(cells),
        "",
        f"Raw cells: `bench/results/{CELLS.name}`.",
    ]
    return "\n".join(lines) + "\n"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _why(t) -> str:
    """Where a thorough cell's choice scored best: out of fold (current protocol) or on validation (older cells)."""
    cv = t.get("cv_score")
    if not _missing(cv):
        n = int(t["n_train"]) + int(t["n_valid"])
        return f"out of fold over {n} train + validation molecules ({cv:.3f}, −RMSE / label spread)"
    return f"on the {int(t['n_valid'])} validation molecules ({t['valid_score']:.3f}, −RMSE / label spread)"


def _grid_notes(cells: pd.DataFrame) -> list[str]:
    """A line for each effort whose cells searched another grid than the code's now (or did not record it)."""
    notes = []
    for effort in EFFORTS:
        sub = cells[cells["effort"] == effort]
        if sub.empty:
            continue
        now = grid_text(effort)
        grids = sub.get("grid")
        if grids is None or grids.isna().any():
            counts = sorted({int(n) for n in sub["candidates"]})
            same = counts == [len(now.split("; "))]
            notes.append(
                f"Some {effort} cells did not record their grid; they searched {', '.join(map(str, counts))} "
                f"candidates, {'as many as' if same else 'not as many as'} the {effort} grid has now."
            )
        elif (grids != now).any():
            notes.append(f"**Some {effort} cells searched another grid than the code's now** (see `grid`).")
    return ["", *notes] if notes else []
