"""Prediction throughput on CPU: ADMET-AI (reference package vs workbench.predict), GIN ensembles, one molecule.

Run: ``python -m bench.throughput [--n 5000] [--threads 1]``; writes ``bench/results/throughput.md``.
``python -m bench.throughput --only cli [--cli-rows 100000]`` measures only the streaming CLI section (peak
RSS of ``workbench standardize`` and ``workbench predict`` under ``/usr/bin/time -v``) and replaces that
section of the results file, keeping the others.

Every measurement runs in its own subprocess (``--worker NAME``) so that load time
and peak memory (``ru_maxrss``: imports + model + prediction) are those of a fresh
process; all workers use the same ``--threads`` torch/onnxruntime threads and the
same HIV molecules. Figures are ratios against a reference measured in the same
run: ``admet_ai.ADMETModel.predict`` for ADMET-AI, the shipped GIN predictor for
GIN variants.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from bench.machine import describe_machine, load_average

RESULTS = Path(__file__).parent / "results" / "throughput.md"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hiv(n: int) -> list[str]:
    from workbench.data import load_moleculenet

    return list(load_moleculenet("hiv").smiles[:n])


def worker_admet_ours(args: argparse.Namespace) -> dict:
    """workbench.predict.inference: parse + standardize + featurize + the card's stacked Chemprop ensembles."""
    t0 = time.perf_counter()
    from workbench.predict import inference

    t_import = time.perf_counter() - t0
    smiles = _hiv(args.n)
    t0 = time.perf_counter()
    model = inference.load_model("admet_ai", device="cpu")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = inference.predict(smiles, [model])
    t_predict = time.perf_counter() - t0
    ok = out["error"] == ""
    columns = [f"admet_ai:{t}" for t in model.tasks]
    np.savez(
        args.out,
        values=out.loc[ok, columns].to_numpy(),
        smiles=np.array(out.loc[ok, "smiles"].tolist(), dtype=str),
        inputs=np.array(out.loc[ok, "input"].tolist(), dtype=str),
    )
    parts = model.checkpoint.card.architecture.config.get("parts", [])
    return {
        "import_s": t_import,
        "load_s": t_load,
        "predict_s": t_predict,
        "n": int(ok.sum()),
        "peak_mb": _peak_mb(),
        "tasks": len(model.tasks),
        "ensembles": [[part["name"], part["config"]["n_models"]] for part in parts],
    }


def _versions(*packages: str) -> str:
    """``name version`` of each installed package, in order (missing ones left out)."""
    found = []
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{package} {metadata.version(package)}")
    return " + ".join(found)


def worker_admet_ref(args: argparse.Namespace) -> dict:
    """admet_ai.ADMETModel.predict on the standardized canonical SMILES our run produced."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    from admet_ai import ADMETModel

    t_import = time.perf_counter() - t0
    smiles = [str(s) for s in np.load(args.inp)["smiles"]]
    t0 = time.perf_counter()
    model = ADMETModel(include_physchem=False, drugbank_path=None, num_workers=0)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    preds = model.predict(smiles)
    t_predict = time.perf_counter() - t0
    tasks = [t for ts in model.task_lists for t in ts]
    np.savez(args.out, values=preds[tasks].to_numpy(), tasks=np.array(tasks, dtype=str))
    return {
        "import_s": t_import,
        "load_s": t_load,
        "predict_s": t_predict,
        "n": len(preds),
        "peak_mb": _peak_mb(),
        "versions": _versions("admet-ai", "chemprop", "lightning"),
    }


def worker_gin(args: argparse.Namespace) -> dict:
    """A GIN checkpoint: whole ensemble, one member end to end (fp32, bf16), and the parts of one prediction."""
    import torch

    from workbench import chem
    from workbench.featurizers import mols_to_graphs
    from workbench.featurizers.graph_batch import GraphBatch
    from workbench.models import Checkpoint
    from workbench.nn.gin import GIN
    from workbench.predict import inference

    smiles = _hiv(args.n)
    checkpoint = next(c for c in inference.list_models() if c.name == args.model)
    t0 = time.perf_counter()
    full = inference.load_model(checkpoint, device="cpu")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    inference.predict(smiles, [full])
    t_ensemble = time.perf_counter() - t0
    inference.clear_cache()
    one = Checkpoint(checkpoint.path, dataclasses.replace(checkpoint.card, weights=checkpoint.card.weights[:1]))
    columns = [f"{checkpoint.name}:{t}" for t in checkpoint.tasks]
    end_to_end = {}
    for precision in ("fp32", "bf16"):
        single = inference.load_model(one, device="cpu", precision=precision)
        inference.predict(smiles[:64], [single])  # warm-up
        t0 = time.perf_counter()
        out = inference.predict(smiles, [single])
        end_to_end[precision] = (time.perf_counter() - t0, out[columns].to_numpy(dtype=float))
    single = inference.load_model(one, device="cpu")
    # the parts of a single-member prediction, run one after the other
    t0 = time.perf_counter()
    parsed = chem.parse_many(smiles, inchikey=False)
    t_parse = time.perf_counter() - t0
    mols = [p.mol for p in parsed if p.ok]
    t0 = time.perf_counter()
    single.predictor.predict(mols)
    t_from_mols = time.perf_counter() - t0
    t0 = time.perf_counter()
    graphs, _ = mols_to_graphs(mols)
    t_feat = time.perf_counter() - t0
    member = single.predictor.members[0]
    batches = [GraphBatch.from_graphs(graphs[i : i + 512]) for i in range(0, len(graphs), 512)]

    def forward(module) -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            for b in batches:
                module(b)
        return time.perf_counter() - start

    def outputs(module) -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat([module(b) for b in batches]).float()

    forward(member)  # warm-up
    t_fp32 = forward(member)
    ref = outputs(member)
    GIN.fast_inference = False  # the per-edge gather / add / index_add of training, as the reference
    t_per_edge = forward(member)
    GIN.fast_inference = True
    bf16 = copy.deepcopy(member).to(torch.bfloat16)
    t_bf16 = forward(bf16)
    bf = outputs(bf16)
    int8 = torch.ao.quantization.quantize_dynamic(member, {torch.nn.Linear}, dtype=torch.qint8)
    t_int8 = forward(int8)
    q = outputs(int8)
    (t32, p32), (t16, p16) = end_to_end["fp32"], end_to_end["bf16"]
    return {
        "load_s": t_load,
        "members": len(checkpoint.card.weights),
        "layers": checkpoint.card.architecture.config.get("num_layer"),
        "emb_dim": checkpoint.card.architecture.config.get("emb_dim"),
        "ensemble_s": t_ensemble,
        "single_s": t32,
        "single_bf16_s": t16,
        "bf16_pred_maxdiff": float(np.nanmax(np.abs(p32 - p16))),
        "from_mols_s": t_from_mols,
        "parse_s": t_parse,
        "featurize_s": t_feat,
        "fp32_s": t_fp32,
        "per_edge_s": t_per_edge,
        "bf16_s": t_bf16,
        "int8_s": t_int8,
        "bf16_maxdiff": float((bf - ref).abs().max()),
        "int8_maxdiff": float((q - ref).abs().max()),
        "n": len(mols),
        "peak_mb": _peak_mb(),
    }


def worker_single(args: argparse.Namespace) -> dict:
    """Warm single-molecule prediction over every shipped model (models loaded, one call warmed)."""
    from workbench.predict import inference

    t0 = time.perf_counter()
    loaded, skipped = [], {}
    for checkpoint in inference.list_models():
        try:
            loaded.append(inference.load_model(checkpoint, device="cpu"))
        except (ValueError, RuntimeError) as exc:  # not a property predictor (e.g. a retrieval dual encoder)
            skipped[checkpoint.name] = str(exc).splitlines()[0][:120]
    t_load = time.perf_counter() - t0
    names = [m.name for m in loaded]
    molecule = "CC(=O)Nc1ccc(O)cc1"
    inference.predict([molecule], loaded)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        inference.predict([molecule], loaded)
        times.append(time.perf_counter() - t0)
    per_model = {}
    for model in loaded:
        inference.predict([molecule], [model])
        t0 = time.perf_counter()
        for _ in range(5):
            inference.predict([molecule], [model])
        per_model[model.name] = (time.perf_counter() - t0) / 5
    return {
        "models": names,
        "skipped": skipped,
        "load_all_s": t_load,
        "median_s": float(np.median(times)),
        "p90_s": float(np.percentile(times, 90)),
        "per_model_s": per_model,
        "peak_mb": _peak_mb(),
    }


def worker_models(args: argparse.Namespace) -> dict:
    """Seconds per default model over the same parsed molecules (where a batch with every model spends its time)."""
    from workbench import chem
    from workbench.cli.predict_cmd import resolve_models
    from workbench.predict import inference

    smiles = _hiv(args.n)
    parsed, warm = chem.parse(smiles, inchikey=False), chem.parse(smiles[:8], inchikey=False)
    valid = int((parsed["error"] == "").sum())
    seconds = {}
    for name in resolve_models(None):  # `workbench predict`'s default: every MoleculeNet checkpoint
        model = inference.load_model(name, device="cpu")
        inference.predict_parsed(warm, [model])
        t0 = time.perf_counter()
        inference.predict_parsed(parsed, [model])
        seconds[name] = time.perf_counter() - t0
    architecture = {c.name: c.architecture for c in inference.list_models()}
    return {"molecules": valid, "seconds": seconds, "architecture": {n: architecture[n] for n in seconds}}


WORKERS = {
    "admet_ours": worker_admet_ours,
    "admet_ref": worker_admet_ref,
    "gin": worker_gin,
    "models": worker_models,
    "single": worker_single,
}

MODELS_HEADING = "## Batch prediction with every default model: where the time goes"


def models_section(n: int, threads: int) -> list[str]:
    """Per-model seconds over ``n`` HIV molecules (parsed once), in one fresh process with ``threads`` threads."""
    result = _run("models", threads, n)
    seconds, molecules = result["seconds"], result["molecules"]
    total = sum(seconds.values())
    gin = sum(v for k, v in seconds.items() if result["architecture"][k] == "gin")
    rows = [
        f"| {name} | {result['architecture'][name]} | {molecules / value:,.0f} | {100 * value / total:.1f} % |"
        for name, value in sorted(seconds.items(), key=lambda item: -item[1])
    ]
    n_gin = sum(1 for a in result["architecture"].values() if a == "gin")
    return [
        MODELS_HEADING,
        "",
        f"`inference.predict_parsed` on the same {molecules:,} parsed HIV molecules, one default model at a time "
        f"({threads} torch thread(s), models loaded and warmed first; parsing not included). Together: "
        f"**{molecules / total:,.0f} molecules/s** (goal 100). The {n_gin} GIN ensembles (3 networks each) take "
        f"{100 * gin / total:.0f} % of the time: each network's forward pass is near the core's arithmetic limit "
        "(see the GIN section), so the goal would need fewer or smaller networks, or `--precision bf16` "
        "(GIN section: about 2x faster, outputs differ by up to ~2e-2), not less overhead.",
        "",
        "| model | architecture | molecules/s alone | share of the time |",
        "|---|---|---:|---:|",
        *rows,
        "",
    ]


def main_models(args: argparse.Namespace) -> None:
    """``--only models``: the per-model breakdown, spliced into the results file."""
    load_at_start = load_average()
    threads = os.cpu_count() or 1
    section = models_section(args.models_n, threads)
    command = "python -m bench.throughput " + " ".join(sys.argv[1:])
    section[2:2] = [f"`{command.strip()}` on {describe_machine(load_at_start)}.", ""]
    old = RESULTS.read_text() if RESULTS.is_file() else "# Prediction throughput (CPU)\n"
    RESULTS.write_text(_splice(old, MODELS_HEADING, section))
    print("\n".join(section))


def _run(name: str, threads: int, n: int, **extra: str) -> dict:
    cmd = [sys.executable, "-m", "bench.throughput", "--worker", name, "--threads", str(threads), "--n", str(n)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    print("running", " ".join(cmd[3:]), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"worker {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _gin_models() -> list[str]:
    from workbench.predict.inference import list_models

    return sorted(c.name for c in list_models() if c.architecture == "gin" and c.group == "MoleculeNet")


CLI_HEADING = "## Streaming CLI: peak memory of a file of molecules"


def _cli_input(folder: Path, rows: int) -> Path:
    """A CSV of ``rows`` HIV SMILES (the data set repeated in file order) with an id column."""
    import pandas as pd

    smiles = _hiv(10**9)
    repeated = [smiles[k % len(smiles)] for k in range(rows)]
    path = folder / "molecules.csv"
    pd.DataFrame({"id": range(1, rows + 1), "smiles": repeated}).to_csv(path, index=False)
    return path


def time_v_peak_mb(stderr: str) -> float:
    """The maximum resident set size, in MB, that ``/usr/bin/time -v`` wrote to ``stderr`` (NaN if absent)."""
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(rss.group(1)) / 1024 if rss else float("nan")


def _time_v(command: list[str]) -> dict:
    """Peak RSS (MB) and wall seconds of a command from ``/usr/bin/time -v``; raises with its stderr on failure."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    seconds = sum(float(part) * 60**k for k, part in enumerate(reversed(wall.group(1).split(":")))) if wall else 0.0
    summary = [line for line in done.stderr.splitlines() if not line.startswith("\t")]
    return {"peak_mb": time_v_peak_mb(done.stderr), "wall_s": seconds, "said": summary[-1:]}


def cli_section(rows: int, predict_rows: int, model: str, chunk_size: int | None, all_rows: int = 0) -> list[str]:
    """Peak RSS (and rows/s) of the streaming verbs on a CSV of HIV molecules, each a fresh ``workbench`` process.

    ``all_rows`` > 0 adds ``workbench predict`` with every default model (the throughput goal of 100 rows/s).
    """
    workbench = str(Path(sys.executable).with_name("workbench"))
    chunk = ["--chunk-size", str(chunk_size)] if chunk_size else []
    shown = f" --chunk-size {chunk_size}" if chunk_size else " (default --chunk-size)"
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for verb, n, extra in [
            ("standardize", rows, []),
            ("predict", predict_rows, ["--models", model, "--no-progress"]),
            ("predict", all_rows, ["--no-progress"]),
        ]:
            if n <= 0:
                continue
            source = _cli_input(Path(tmp), n)
            print(f"running workbench {verb} on {n:,} rows", file=sys.stderr, flush=True)
            result = _time_v([workbench, verb, str(source), "-o", f"{tmp}/out.csv", *extra, *chunk])
            with open(f"{tmp}/out.csv", encoding="utf-8") as handle:
                written = sum(1 for _ in handle) - 1
            every = verb == "predict" and "--models" not in extra
            what = f"{' '.join(extra)} (every default model)" if every else " ".join(extra)
            table.append(
                f"| `workbench {verb} molecules.csv -o out.csv {what}`{shown} | {n:,} | {written:,} | "
                f"{result['wall_s']:,.0f} | {n / max(result['wall_s'], 1e-9):,.0f} | **{result['peak_mb']:,.0f}** |"
            )
    return [
        CLI_HEADING,
        "",
        "Each verb reads the file in chunks, writes each chunk's rows and forgets them, so peak memory is set by "
        "`--chunk-size`, not by the file. Input: a CSV of HIV SMILES (the data set repeated, in file order) with "
        "an `id` column; peak memory is the process's maximum resident set size reported by `/usr/bin/time -v` "
        "(imports and models included), wall time includes start-up. Goals: under 1 GB for `standardize` and "
        "`predict` with one GIN; at least 100 rows/s for `predict` with every default model (torch's default "
        "threads: both cores).",
        "",
        "| command | input rows | rows written | wall s | rows/s | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
        *table,
        "",
    ]


def _splice(text: str, heading: str, section: list[str]) -> str:
    """``text`` with the section under ``heading`` (up to the next ``## ``) replaced, or appended."""
    lines = text.splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines[start:end] = section
    else:
        lines += ["", *section]
    return "\n".join(lines).rstrip("\n") + "\n"


def main_cli(args: argparse.Namespace) -> None:
    """``--only cli``: measure the streaming CLI and replace its section of the results file."""
    model = args.gin[0] if args.gin else _gin_models()[0]
    load_at_start = load_average()
    section = cli_section(args.cli_rows, args.cli_predict_rows, model, args.cli_chunk_size, args.cli_all_rows)
    command = "python -m bench.throughput " + " ".join(sys.argv[1:])
    section[2:2] = [f"`{command.strip()}` on {describe_machine(load_at_start)}.", ""]
    old = RESULTS.read_text() if RESULTS.is_file() else "# Prediction throughput (CPU)\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(_splice(old, CLI_HEADING, section))
    print("\n".join(section))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="HIV molecules, in file order")
    parser.add_argument("--threads", type=int, default=1, help="torch / onnxruntime threads in every worker")
    parser.add_argument("--gin", nargs="*", help="GIN checkpoints (default: every shipped *_gin, at most --max-gin)")
    parser.add_argument("--max-gin", type=int, default=1)
    parser.add_argument("--gin-threads", type=int, nargs="*", help="torch threads for the GIN rows (default --threads)")
    parser.add_argument("--repeats", type=int, default=20, help="single-molecule repeats")
    parser.add_argument("--skip", nargs="*", default=[], choices=["admet", "gin", "single", "cli"])
    parser.add_argument(
        "--only", choices=["cli", "models"], help="run only this section and splice it into the results file"
    )
    parser.add_argument("--models-n", type=int, default=1000, help="HIV molecules for --only models")
    parser.add_argument("--cli-rows", type=int, default=100_000, help="rows for `workbench standardize`")
    parser.add_argument(
        "--cli-predict-rows", type=int, help="rows for `workbench predict` with one GIN (default --cli-rows)"
    )
    parser.add_argument(
        "--cli-all-rows",
        type=int,
        default=10_000,
        help="rows for `workbench predict` with every default model (0: skip)",
    )
    parser.add_argument("--cli-chunk-size", type=int, help="--chunk-size for both verbs (default: the CLI's)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--inp", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps(WORKERS[args.worker](args)))
        return
    if args.cli_predict_rows is None:
        args.cli_predict_rows = args.cli_rows
    if args.only == "models":
        main_models(args)
        return
    if args.only == "cli":
        main_cli(args)
        return

    command = "python -m bench.throughput " + " ".join(sys.argv[1:])
    load_at_start = load_average()
    lines = [
        "# Prediction throughput (CPU)",
        "",
        "",  # the run's command and machine, filled in at the end (the load average is read then too)
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if "admet" not in args.skip:
            ours = _run("admet_ours", args.threads, args.n, out=f"{tmp}/ours.npz")
            ref = _run("admet_ref", args.threads, args.n, inp=f"{tmp}/ours.npz", out=f"{tmp}/ref.npz")
            a, b = np.load(f"{tmp}/ours.npz"), np.load(f"{tmp}/ref.npz")
            diff = np.abs(a["values"] - b["values"])
            changed = int(sum(i != s for i, s in zip(a["inputs"], a["smiles"], strict=True)))
            r_rate, o_rate = ref["n"] / ref["predict_s"], ours["n"] / ours["predict_s"]
            ensembles = " and ".join(f"{name} ({members} members)" for name, members in ours["ensembles"])
            lines += [
                f"## (a) ADMET-AI: {ours['tasks']} endpoints, Chemprop ensembles {ensembles}",
                "",
                "| path | molecules | import s | model load s | predict s | molecules/s | vs ADMETModel | peak MB |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                f"| `admet_ai.ADMETModel.predict` (reference; {ref['versions']}) | {ref['n']} | "
                f"{ref['import_s']:.1f} | {ref['load_s']:.2f} | {ref['predict_s']:.1f} | {r_rate:,.0f} | 1.00× | "
                f"{ref['peak_mb']:,.0f} |",
                f"| `workbench.predict.inference.predict(smiles, ['admet_ai'])` (parse + standardize included) | "
                f"{ours['n']} | {ours['import_s']:.1f} | {ours['load_s']:.2f} | {ours['predict_s']:.1f} | "
                f"{o_rate:,.0f} | {o_rate / r_rate:.2f}× | {ours['peak_mb']:,.0f} |",
                "",
                f"Outputs: max \\|difference\\| over {diff.size:,} values (all {diff.shape[1]} endpoints × "
                f"{len(diff):,} molecules) "
                f"= {diff.max():.2e} (goal ≤ 1e-4). The reference was given the standardized canonical SMILES that "
                f"workbench produced, so both see the same molecules: {changed:,} of the {len(diff):,} inputs are "
                "written differently after standardization (salts stripped, charges neutralized, canonical order), "
                "and ADMET-AI's own output depends on how a SMILES is written (its chirality-tag feature follows "
                "atom order), so on raw inputs the two differ for those molecules by design.",
                "",
            ]
        if "gin" not in args.skip:
            names = args.gin if args.gin is not None else _gin_models()[: args.max_gin]
            if names:
                lines += [
                    "## (b) GIN ensembles (layers × width from each card), featurization included",
                    "",
                    "End to end = `inference.predict(smiles, [model])`: parse + standardize, graph featurization "
                    "of the next batch overlapped with the forward of the current one (a worker thread), output "
                    "transform. *Serial sum* is the same work run one part after the other (parse, featurize, "
                    "fp32 forward, each timed alone), the reference for the overlap. The forward columns time the "
                    "network alone on pre-built batches of 512: *per-edge* is the gather / add / index_add "
                    "aggregation used in training, fp32 the inference path that regroups it once per forward "
                    "(sparse adjacency + bond-type counts).",
                    "",
                    "| checkpoint | torch threads | members | load s | ensemble mol/s | one member mol/s "
                    "(vs serial sum) | one member bf16 mol/s | one member from parsed mols | parse mol/s | "
                    "graph featurize mol/s | forward per-edge mol/s | forward fp32 mol/s (vs per-edge) | "
                    "bf16 (vs fp32) | int8 dynamic (vs fp32) | peak MB |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                ]
                notes = []
                for name in names:
                    for threads in args.gin_threads or [args.threads]:
                        g = _run("gin", threads, args.n, model=name)
                        n = g["n"]
                        serial = g["parse_s"] + g["featurize_s"] + g["fp32_s"]
                        lines.append(
                            f"| {name} ({g['layers']} × {g['emb_dim']}) | {threads} | {g['members']} | "
                            f"{g['load_s']:.2f} | "
                            f"{n / g['ensemble_s']:,.0f} | {n / g['single_s']:,.0f} "
                            f"({serial / g['single_s']:.2f}×) | {n / g['single_bf16_s']:,.0f} | "
                            f"{n / g['from_mols_s']:,.0f} | {n / g['parse_s']:,.0f} | {n / g['featurize_s']:,.0f} | "
                            f"{n / g['per_edge_s']:,.0f} | {n / g['fp32_s']:,.0f} "
                            f"({g['per_edge_s'] / g['fp32_s']:.2f}×) | "
                            f"{n / g['bf16_s']:,.0f} ({g['fp32_s'] / g['bf16_s']:.2f}×) | "
                            f"{n / g['int8_s']:,.0f} ({g['fp32_s'] / g['int8_s']:.2f}×) | {g['peak_mb']:,.0f} |"
                        )
                        notes.append(
                            f"{name}, {threads} thread(s): max \\|raw output difference\\| vs fp32: bf16 "
                            f"{g['bf16_maxdiff']:.2e}, int8 {g['int8_maxdiff']:.2e}; end to end, max \\|predicted "
                            f"value difference\\| bf16 vs fp32 {g['bf16_pred_maxdiff']:.2e}."
                        )
                lines += ["", *notes, ""]
        if "single" not in args.skip:
            s = _run("single", args.threads, args.n, repeats=args.repeats)
            lines += [
                "## Warm single-molecule prediction over every shipped model",
                "",
                f"{len(s['models'])} models ({', '.join(s['models'])}); loading them all took "
                f"{s['load_all_s']:.1f} s; then `inference.predict(['CC(=O)Nc1ccc(O)cc1'], all_models)` over "
                f"{args.repeats} repeats: median **{s['median_s'] * 1000:.0f} ms**, p90 {s['p90_s'] * 1000:.0f} ms "
                f"(goal ≤ 300 ms); peak {s['peak_mb']:,.0f} MB."
                + (
                    " Not property predictors, skipped: " + "; ".join(f"{k} ({v})" for k, v in s["skipped"].items())
                    if s["skipped"]
                    else ""
                ),
                "",
                "| model | warm single-molecule ms |",
                "|---|---:|",
                *[f"| {k} | {v * 1000:.1f} |" for k, v in sorted(s["per_model_s"].items(), key=lambda kv: -kv[1])],
                "",
            ]
    if "cli" not in args.skip:
        lines += cli_section(
            args.cli_rows, args.cli_predict_rows, (args.gin or _gin_models())[0], args.cli_chunk_size, args.cli_all_rows
        )
    lines[2] = (
        f"`{command.strip()}` on {describe_machine(load_at_start)}. {args.threads} torch/onnxruntime thread(s) per "
        f"process unless a row says otherwise, first {args.n} HIV molecules. Ratios compare measurements made back "
        "to back in this run. Each row is a fresh subprocess: load time and peak memory (max RSS, imports "
        "included) are its own."
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
