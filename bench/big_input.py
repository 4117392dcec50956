"""Gigabyte inputs to the streaming CLI: each ends with a clear message or streams in bounded memory.

Three 1 GB files, each given to ``workbench standardize`` under ``/usr/bin/time -v`` in a fresh process:

- *valid rows*: HIV SMILES repeated (about 20 million rows). Finishing would take hours, so the run is
  interrupted with Ctrl-C (SIGINT) after ``--seconds``; the rows streamed to stdout until then give the
  rate, and the peak memory shows whether it grows with the file;
- *long lines*: 1,000 rows whose SMILES cell is 1 MiB (a damaged export);
- *binary*: random bytes named ``.csv``.

Run: ``python -m bench.big_input [--seconds 60]``; replaces its section of ``bench/results/throughput.md``.
The files are written to a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe_machine, load_average
from bench.throughput import RESULTS, _hiv, _splice, time_v_peak_mb

HEADING = "## Streaming CLI: 1 GB inputs"
SIZE = 1 << 30


def _valid(path: Path) -> None:
    block = "".join(f"{k},{s}\n" for k, s in enumerate(_hiv(10**9)))
    with path.open("w") as handle:
        handle.write("id,smiles\n")
        while handle.tell() < SIZE:
            handle.write(block)


def _long_lines(path: Path) -> None:
    cell = "C" * (1 << 20)
    with path.open("w") as handle:
        handle.write("id,smiles\n")
        for k in range(1024):
            handle.write(f"{k},{cell}\n")


def _binary(path: Path) -> None:
    with path.open("wb") as handle:
        for _ in range(SIZE >> 24):
            handle.write(os.urandom(1 << 24))


def _run(path: Path, seconds: float | None) -> dict:
    """``workbench standardize PATH -o -`` under ``/usr/bin/time -v``; SIGINT after ``seconds`` when given."""
    workbench = str(Path(sys.executable).with_name("workbench"))
    command = ["/usr/bin/time", "-v", workbench, "standardize", str(path), "-o", "-"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            for child in _children(proc.pid):
                os.kill(child, signal.SIGINT)  # Ctrl-C reaches the workbench process, not /usr/bin/time
            proc.wait()
        wall = time.perf_counter() - start
        out.seek(0)
        rows = max(sum(1 for _ in out) - 1, 0)
        err.seek(0)
        text = err.read().decode(errors="replace")
    said = [line for line in text.splitlines() if line.startswith("workbench")]
    status = re.search(r"Exit status: (\d+)", text)
    return {
        "rows": rows,
        "wall_s": wall,
        "peak_mb": time_v_peak_mb(text),
        "exit": int(status.group(1)) if status else ("signal" if "signal" in text else "?"),
        "said": said[-1] if said else "",
    }


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def section(seconds: float) -> list[str]:
    """Run the three files and return the Markdown section."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="big_input_") as tmp:
        for label, make, limit in [
            ("valid rows (HIV SMILES repeated)", _valid, seconds),
            ("1,024 rows of 1 MiB SMILES cells", _long_lines, None),
            ("random bytes named .csv", _binary, None),
        ]:
            path = Path(tmp) / "big.csv"
            make(path)
            size = path.stat().st_size
            print(f"running workbench standardize on {label} ({size / 2**30:.2f} GiB)", file=sys.stderr, flush=True)
            result = _run(path, limit)
            path.unlink()
            interrupted = f"Ctrl-C after {limit:.0f} s; " if limit else ""
            rate = f"{result['rows'] / max(result['wall_s'], 1e-9):,.0f} rows/s" if result["rows"] else ""
            rows.append(
                f"| {label} | {size / 2**30:.2f} | {interrupted}exit {result['exit']} | {result['rows']:,} {rate} "
                f"| {result['wall_s']:.1f} | **{result['peak_mb']:,.0f}** | {result['said'] or '(nothing)'} |"
            )
    return [
        HEADING,
        "",
        "`workbench standardize FILE -o -` on 1 GiB files, each in a fresh process under `/usr/bin/time -v` (peak "
        "= maximum resident set size). The valid file would take hours, so it is interrupted with Ctrl-C; its "
        "rows written and peak memory show that the stream runs in bounded memory. Goal: a clear message or a "
        "finished output, never an abort.",
        "",
        "| input | GiB | how it ended | rows written | wall s | peak MB | what it said |",
        "|---|---:|---|---|---:|---:|---|",
        *rows,
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="run time of the valid file before Ctrl-C")
    args = parser.parse_args()
    load_at_start = load_average()
    lines = section(args.seconds)
    command = "python -m bench.big_input " + " ".join(sys.argv[1:])
    lines[2:2] = [f"`{command.strip()}` on {describe_machine(load_at_start)}.", ""]
    old = RESULTS.read_text() if RESULTS.is_file() else "# Prediction throughput (CPU)\n"
    RESULTS.write_text(_splice(old, HEADING, lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
