"""Virtual screening at scale: MOSES molecules through ``workbench screen``, local and Ray engines.

Run: ``workbench bench screening [--molecules 100000] [--cases admet_ai gin prompt]
[--setups local:1 local:2 ray:1 ray:2] [--max-minutes M]``; ``--full`` adds the done-criterion run over the whole
MOSES library (``--library moses``, about 1.58 M molecules; ``--resume`` continues it after an interruption).
Writes ``bench/results/screening.csv`` (one row per finished cell: a stopped run resumes at the next cell) and
``bench/results/screening.md``; ``--report-only`` rewrites the report from the stored cells.

Each cell is one ``workbench screen`` command in a fresh process on a seeded sample of ``--molecules`` MOSES
molecules (written once under ``runs/bench-screening``; never committed): molecules/s end to end (interpreter
start, model loading and the final Parquet file included) and the CLI's own rate, and the peak memory of the whole
process tree (the CLI, its worker processes, Ray's processes), sampled every 0.5 s with psutil as the sum of the
processes' RSS (shared pages counted once per process: an upper bound) and of their PSS (shared pages divided
among the processes that map them). The projection for 10 M molecules divides by the measured per-core rate (one
worker, local engine) times the measured parallel efficiency; it is a projection, not a measurement.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench.cells import append_cell, read_cells, report_head
from bench.machine import describe_machine, load_average

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "screening.csv"
REPORT = RESULTS / "screening.md"
RUNS = Path("runs/bench-screening")

#: What each case screens (``workbench screen`` arguments; ``{gin}`` and ``{prompt}`` from the options).
CASES = {
    "admet_ai": ["--models", "admet_ai", "--where", "admet_ai:BBB_Martins > 0.8", "--top", "1000", "--by",
                 "admet_ai:BBB_Martins"],
    "gin": ["--models", "{gin}"],
    "prompt": ["--prompt", "{prompt}"],
}  # fmt: skip
SETUPS = ("local:1", "local:2", "ray:1", "ray:2")
GIN = "bbbp_gin"
PROMPT = "a beta-lactam antibiotic"
SAMPLE_SEED = 0
PROJECTED_MOLECULES = 10_000_000
PROJECTED_MACHINES = (1, 10, 100)
SAMPLE_EVERY_S = 0.5

_RATE = re.compile(r"in ([\d.]+) s \(([\d,]+) molecules/s")
_ROWS = re.compile(r"([\d,]+) molecules \(([\d,]+) with an error\)")


def sample_library(n: int, folder: Path = RUNS, seed: int = SAMPLE_SEED, source: Path | None = None) -> Path:
    """A CSV of ``n`` MOSES molecules drawn with ``seed`` (written once; ``source`` replaces MOSES in tests)."""
    import pandas as pd

    from workbench.screen.library import moses_path

    path = folder / f"moses_{n}_seed{seed}.csv"
    if path.is_file():
        return path
    frame = pd.read_csv(source or moses_path(), usecols=[0])
    frame.columns = ["smiles"]
    if n > len(frame):
        raise SystemExit(f"--molecules {n:,} is more than the library's {len(frame):,}")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.sample(n=n, random_state=seed).to_csv(tmp, index=False)
    tmp.replace(path)
    return path


class TreeMemory:
    """The peak summed RSS and PSS (bytes) of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S) -> None:
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> tuple[int, int]:
        """(RSS, PSS) summed over the tree now (PSS falls back to RSS where the OS does not report it)."""
        import psutil

        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0, 0
        rss = pss = 0
        for process in processes:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        return rss, pss

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = self.sample()
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self._stop.wait(self.every)


def screen_command(library: str | Path | None, output: Path, case: str, setup: str, options: dict) -> list[str]:
    """The ``workbench screen`` command of one cell (``library`` None → ``--library moses``)."""
    engine, workers = setup.split(":")
    extra = [a.format(**options) for a in CASES[case]]
    source = ["--library", "moses"] if library is None else [str(library)]
    workbench = str(Path(sys.executable).with_name("workbench"))
    return [workbench, "screen", *source, "-o", str(output), *extra, "--engine", engine, "--workers", workers,
            "--no-progress"]  # fmt: skip


def run_command(command: list[str]) -> dict:
    """Run one screen in a fresh process: wall seconds, the CLI's own figures, peak tree RSS / PSS (GB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory(process.pid) as memory:
        stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    rows, rate = _ROWS.search(stderr), _RATE.search(stderr)
    return {
        "wall_s": round(wall, 1),
        "molecules": int(rows.group(1).replace(",", "")) if rows else None,
        "errors": int(rows.group(2).replace(",", "")) if rows else None,
        "cli_s": float(rate.group(1)) if rate else None,
        "cli_molecules_per_s": float(rate.group(2).replace(",", "")) if rate else None,
        "peak_rss_gb": round(memory.peak_rss / 1e9, 3),
        "peak_pss_gb": round(memory.peak_pss / 1e9, 3),
        "said": stderr.strip().splitlines()[-1] if stderr.strip() else stdout.strip()[-200:],
    }


def run_cells(
    cases: Sequence[str],
    setups: Sequence[str],
    library: Path,
    *,
    options: dict,
    cells_path: Path = CELLS,
    work: Path = RUNS,
    max_minutes: float | None = None,
    log=print,
) -> int:
    """Run every missing (case, setup) cell on ``library``; returns how many ran."""
    deadline = time.monotonic() + max_minutes * 60 if max_minutes else math.inf
    finished = read_cells(cells_path)
    have = set() if finished.empty else set(zip(finished["case"], finished["setup"], finished["library"], strict=True))
    ran = 0
    for case in cases:
        for setup in setups:
            if (case, setup, library.name) in have:
                continue
            if time.monotonic() > deadline:
                log(f"time budget reached after {ran} cells; run again to continue")
                return ran
            output = work / f"{case}-{setup.replace(':', '')}.parquet"
            command = screen_command(library, output, case, setup, options)
            log(f"{case} / {setup}: {shlex.join(command[1:])}")
            load = load_average()
            row = {"case": case, "setup": setup, "library": library.name, **run_command([*command, "--overwrite"])}
            row["molecules_per_s"] = round(row["molecules"] / row["wall_s"], 1) if row["molecules"] else None
            row["load_at_start"] = None if load is None else round(load, 1)
            row["options"] = f"gin={options['gin']}; prompt={options['prompt']}"
            append_cell(row, cells_path)
            log(f"  {row['molecules_per_s']} molecules/s end to end, peak PSS {row['peak_pss_gb']} GB")
            output.unlink(missing_ok=True)
            ran += 1
    return ran


def run_full(options: dict, cells_path: Path = CELLS, work: Path = RUNS, resume: bool = False, log=print) -> dict:
    """The done-criterion screen over the whole MOSES library with two local workers (one cell, ``library`` moses)."""
    output = work / "moses-hits.parquet"
    command = [*screen_command(None, output, "admet_ai", "local:2", options), "--resume" if resume else "--overwrite"]
    log(f"full library: {shlex.join(command[1:])}")
    load = load_average()
    row = {"case": "admet_ai", "setup": "local:2", "library": "moses (full)", **run_command(command)}
    row["molecules_per_s"] = row["cli_molecules_per_s"]  # computed rows only: resumed chunks are not counted
    row["load_at_start"] = None if load is None else round(load, 1)
    row["options"] = "resumed" if resume else "one go"
    append_cell(row, cells_path)
    return row


def _fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _case_table(cells, case: str) -> list[str]:
    rows = cells[(cells["case"] == case) & (cells["library"] != "moses (full)")]
    if rows.empty:
        return []
    rates = {r.setup: r.cli_molecules_per_s for r in rows.itertuples()}
    lines = [
        f"### {case}",
        "",
        "| engine | workers / actors | molecules | errors | wall s | molecules/s end to end | molecules/s (CLI) "
        "| parallel efficiency | peak RSS GB | peak PSS GB | load at start |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows.itertuples():
        engine, n = r.setup.split(":")
        one = rates.get(f"{engine}:1")
        efficiency = r.cli_molecules_per_s / (int(n) * one) if one and n != "1" else None
        lines.append(
            f"| {engine} | {n} | {_fmt(r.molecules)} | {_fmt(r.errors)} | {_fmt(r.wall_s, 1)} "
            f"| {_fmt(r.molecules_per_s)} | {_fmt(r.cli_molecules_per_s)} | {_fmt(efficiency, 2)} "
            f"| {_fmt(r.peak_rss_gb, 2)} | {_fmt(r.peak_pss_gb, 2)} | {_fmt(r.load_at_start, 1)} |"
        )
    return [*lines, ""]


def projection(cells, cpus: int) -> list[str]:
    """Projected hours for 10 M molecules on N machines like this one, from the local engine's measured rates."""
    lines = []
    for case in dict.fromkeys(cells["case"]):
        rows = cells[(cells["case"] == case) & (cells["library"] != "moses (full)")]
        rate = {r.setup: r.cli_molecules_per_s for r in rows.itertuples()}
        one, two = rate.get("local:1"), rate.get("local:2")
        if not one or not two:
            continue
        efficiency = min(1.0, two / (2 * one))
        per_machine = one * cpus * efficiency
        hours = [PROJECTED_MOLECULES / (per_machine * n) / 3600 for n in PROJECTED_MACHINES]
        lines.append(f"| {case} | {one:,.0f} | {efficiency:.2f} | " + " | ".join(f"{h:,.1f}" for h in hours) + " |")
    if not lines:
        return []
    head = " | ".join(f"{n} machine{'s' if n > 1 else ''}, h" for n in PROJECTED_MACHINES)
    return [
        f"## Projection: {PROJECTED_MOLECULES:,} molecules (not a measurement)",
        "",
        f"Hours = {PROJECTED_MOLECULES:,} / (per-core rate × {cpus} CPUs × parallel efficiency × machines): the rate "
        "of one local worker, the efficiency of two workers on this machine (capped at 1), machines like this one "
        "with one worker per CPU, and no time for reading the library or shipping results between machines.",
        "",
        f"| case | per-core molecules/s | parallel efficiency | {head} |",
        "|---|---:|---:|" + "---:|" * len(PROJECTED_MACHINES),
        *lines,
        "",
    ]


def full_section(cells) -> list[str]:
    """The done-criterion run over the whole MOSES library, if it was run."""
    rows = cells[cells["library"] == "moses (full)"] if not cells.empty else cells
    if rows.empty:
        return ["## The whole MOSES library", "", "Not run yet (`workbench bench screening --full`).", ""]
    lines = [
        "## The whole MOSES library",
        "",
        '`workbench screen --library moses --models admet_ai --where "admet_ai:BBB_Martins > 0.8" --top 1000 '
        "--by admet_ai:BBB_Martins --workers 2` (local engine).",
        "",
        "| run | molecules | errors | CLI s | molecules/s (computed rows) | peak RSS GB | peak PSS GB "
        "| under 3 GB | load at start |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows.itertuples():
        under = "yes" if r.peak_rss_gb < 3 else f"no ({r.peak_rss_gb:.2f} GB RSS)"
        lines.append(
            f"| {r.options} | {_fmt(r.molecules)} | {_fmt(r.errors)} | {_fmt(r.cli_s, 0)} "
            f"| {_fmt(r.molecules_per_s)} | {_fmt(r.peak_rss_gb, 2)} | {_fmt(r.peak_pss_gb, 2)} | {under} "
            f"| {_fmt(r.load_at_start, 1)} |"
        )
    return [*lines, "", f"Said: `{rows.iloc[-1]['said']}`", ""]


def report(cells, command: str, machine: str, cpus: int) -> str:
    """The Markdown report of the stored cells."""
    lines = report_head("Virtual screening throughput (CPU)", command, machine)
    lines += [
        "Each cell is one `workbench screen` command in a fresh process on a seeded sample of MOSES molecules "
        "(`--library moses` sampled with pandas, seed 0). *End to end* divides the molecules by the wall time of "
        "the whole command (interpreter start, model loading, writing the output); *CLI* is the rate the command "
        "reports (from the start of the screen to the written output). Peak memory is of the whole process tree "
        f"(the CLI, its workers, Ray's processes), sampled every {SAMPLE_EVERY_S} s: RSS summed over processes "
        "counts shared pages once per process (an upper bound); PSS shares them out. *Parallel efficiency* = the "
        "rate with N workers / (N × the rate with one) for the same engine.",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No cells yet.", ""])
    options = cells["options"].dropna()
    if not options.empty:
        lines += [f"Options: {options.iloc[0]}; libraries: {', '.join(dict.fromkeys(cells['library']))}.", ""]
    lines += ["## Samples of MOSES", ""]
    for case in dict.fromkeys(cells["case"]):
        lines += _case_table(cells, case)
    lines += projection(cells, cpus)
    lines += full_section(cells)
    return "\n".join(lines).rstrip("\n") + "\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench screening``."""
    p.add_argument("--molecules", type=int, default=100_000, help="MOSES molecules per cell (a seeded sample)")
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--setups", nargs="*", default=list(SETUPS), help="ENGINE:WORKERS, e.g. local:2 ray:1")
    p.add_argument("--gin", default=GIN, help="the GIN checkpoint of the gin case")
    p.add_argument("--prompt", default=PROMPT, help="the text of the prompt case")
    p.add_argument("--full", action="store_true", help="also screen the whole MOSES library (admet_ai, 2 workers)")
    p.add_argument("--full-only", action="store_true", help="only the whole-library run")
    p.add_argument("--resume", action="store_true", help="with --full: continue an interrupted whole-library run")
    p.add_argument("--max-minutes", type=float, help="start no new cell after this long")
    p.add_argument("--source", type=Path, help="a SMILES CSV to sample instead of MOSES (tests)")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of screening.csv / .md")
    p.add_argument("--work", type=Path, default=RUNS, help="folder of the samples and the outputs")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    import os

    load = load_average()
    cells_path = args.out / CELLS.name
    options = {"gin": args.gin, "prompt": args.prompt}
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    for setup in args.setups:
        engine, _, n = setup.partition(":")
        if engine not in ("local", "ray") or not n.isdigit() or int(n) < 1:
            raise SystemExit(f"--setups: '{setup}' is not ENGINE:WORKERS (local:2, ray:1)")
    if not args.report_only:
        args.out.mkdir(parents=True, exist_ok=True)
        args.work.mkdir(parents=True, exist_ok=True)
        if not args.full_only:
            library = sample_library(args.molecules, args.work, source=args.source)
            run_cells(args.cases, args.setups, library, options=options, cells_path=cells_path, work=args.work,
                      max_minutes=args.max_minutes, log=log)  # fmt: skip
        if args.full or args.full_only:
            run_full(options, cells_path, args.work, resume=args.resume, log=log)
    text = report(read_cells(cells_path), command, describe_machine(None if args.report_only else load),
                  os.cpu_count() or 1)  # fmt: skip
    (args.out / REPORT.name).write_text(text)
    print(args.out / REPORT.name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.screening ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.screening", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), "python -m bench.screening " + shlex.join(argv))


if __name__ == "__main__":
    raise SystemExit(main())
