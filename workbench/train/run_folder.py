"""A training run's folder: its configuration and hash, a per-epoch log, resumable state and the result.

Layout of ``<run>/``:

* ``config.json`` — the full configuration and its sha256; a run folder that holds progress refuses
  a different configuration (:class:`ConfigMismatchError`, naming the keys that differ);
* ``log.jsonl`` — one JSON row per finished epoch (losses, validation metrics, seconds);
* ``state.json`` + ``state-<epoch>.safetensors`` — what resuming needs, written after every epoch:
  model, optimizer, best weights, epoch, best score and every random-number generator's state
  (tensors in safetensors, everything else in JSON; nothing is ever pickled);
* ``best.safetensors`` + ``result.json`` — written when the run ends; a finished run is read back,
  never retrained.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

__all__ = ["ConfigMismatchError", "RunFolder", "RunState", "config_diff", "config_hash", "jsonable"]

Generators = Mapping[str, np.random.Generator | torch.Generator]


class ConfigMismatchError(ValueError):
    """A run folder holds progress made with another configuration."""


def jsonable(value: object) -> object:
    """``value`` as plain JSON data: tuples become lists, paths strings, non-finite floats ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON data: {value!r}")


def config_hash(config: Mapping) -> str:
    """sha256 of the configuration as sorted JSON."""
    return hashlib.sha256(json.dumps(jsonable(config), sort_keys=True).encode()).hexdigest()


def config_diff(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    """``key (old -> new)`` for every (dotted) key whose value differs, sorted."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += config_diff(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} ({_short(a)} -> {_short(b)})")
    return out


def _short(value: object, limit: int = 40) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(jsonable(data), indent=1))
    tmp.replace(path)


def _save_tensors(path: Path, tensors: Mapping[str, torch.Tensor]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    tmp.replace(path)


def _prefixed(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)}


def _optimizer_parts(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer state dict as (tensors, JSON data)."""
    tensors, plain = {}, {}
    for pid, values in state["state"].items():
        plain[str(pid)] = {}
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{pid}.{key}"] = value
            else:
                plain[str(pid)][key] = value
    return tensors, {"state": plain, "param_groups": state["param_groups"]}


def _optimizer_state(tensors: Mapping[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {int(pid): dict(values) for pid, values in meta["state"].items()}
    for key, value in _prefixed(tensors, "optimizer.").items():
        pid, name = key.split(".", 1)
        state[int(pid)][name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_parts(generators: Generators) -> tuple[dict[str, torch.Tensor], dict]:
    """Every generator a run draws from: torch (CPU, CUDA), NumPy's global one, Python's, and the named ones."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors |= {f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())}
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["rng.numpy_global"] = torch.from_numpy(keys.astype(np.uint32).view(np.int32).copy())
    meta: dict = {"numpy_global": [kind, int(pos), int(has_gauss), float(gauss)], "python": random.getstate()}
    meta["generators"] = {}
    for name, gen in generators.items():
        if isinstance(gen, torch.Generator):
            tensors[f"rng.gen.{name}"] = gen.get_state()
        else:
            meta["generators"][name] = gen.bit_generator.state
    return tensors, meta


def _restore_rng(tensors: Mapping[str, torch.Tensor], meta: dict, generators: Generators) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [v for _, v in sorted(_prefixed(tensors, "rng.cuda.").items(), key=lambda kv: int(kv[0]))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, pos, has_gauss, gauss = meta["numpy_global"]
    np.random.set_state((kind, tensors["rng.numpy_global"].numpy().view(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))
    for name, gen in generators.items():
        if isinstance(gen, torch.Generator):
            gen.set_state(tensors[f"rng.gen.{name}"])
        else:
            gen.bit_generator.state = meta["generators"][name]


class RunState:
    """Where an interrupted run stands: the last finished epoch and what the loop needs to go on."""

    def __init__(
        self,
        epoch: int,
        model: dict[str, torch.Tensor],
        optimizer: dict,
        best_state: dict[str, torch.Tensor] | None,
        best_score: float | None,
        best_epoch: int,
        history: list[dict],
    ) -> None:
        self.epoch, self.model, self.optimizer = epoch, model, optimizer
        self.best_state, self.best_score, self.best_epoch, self.history = best_state, best_score, best_epoch, history


class RunFolder:
    """One training run on disk (see the module docstring); ``config`` is everything that decides its weights."""

    def __init__(self, path: str | Path, config: Mapping) -> None:
        self.path = Path(path)
        self.config = jsonable(config)
        self.sha256 = config_hash(self.config)

    def _progress_sha256(self) -> str | None:
        """The configuration hash recorded with the run's progress (state or result); ``None`` without progress."""
        for name in ("result.json", "state.json"):
            if (self.path / name).is_file():
                return json.loads((self.path / name).read_text()).get("config_sha256", "")
        return None

    def open(self) -> None:
        """Create the folder and record the configuration; refuse one holding progress of another configuration."""
        self.path.mkdir(parents=True, exist_ok=True)
        config_file = self.path / "config.json"
        made_with = self._progress_sha256()
        if made_with is not None and made_with != self.sha256:
            recorded = json.loads(config_file.read_text()).get("config", {}) if config_file.is_file() else {}
            changes = ", ".join(config_diff(recorded, self.config)) if recorded else "config.json is missing"
            raise ConfigMismatchError(
                f"{self.path} holds a run made with another configuration ({changes or 'its hash differs'}): "
                "delete that folder to train again with the new settings, or choose another name or runs folder."
            )
        _write_json(config_file, {"sha256": self.sha256, "config": self.config})

    def finished(self) -> bool:
        """Whether the run ended (its best weights and result are stored)."""
        return (self.path / "result.json").is_file() and (self.path / "best.safetensors").is_file()

    def result(self) -> dict:
        """``result.json`` of a finished run."""
        return json.loads((self.path / "result.json").read_text())

    def best_state(self) -> dict[str, torch.Tensor]:
        """The weights a finished run kept."""
        return load_file(str(self.path / "best.safetensors"))

    def history(self) -> list[dict]:
        """The rows of ``log.jsonl``."""
        log = self.path / "log.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines() if line] if log.is_file() else []

    def save_state(self, state: RunState, generators: Generators) -> None:
        """Write everything resuming after ``state.epoch`` needs (tensors first, then the JSON that points to them)."""
        tensors = {f"model.{k}": v for k, v in state.model.items()}
        if state.best_state is not None:
            tensors |= {f"best.{k}": v for k, v in state.best_state.items()}
        opt_tensors, opt_meta = _optimizer_parts(state.optimizer)
        rng_tensors, rng_meta = _rng_parts(generators)
        name = f"state-{state.epoch:05d}.safetensors"
        _save_tensors(self.path / name, tensors | opt_tensors | rng_tensors)
        meta = {
            "config_sha256": self.sha256,
            "epoch": state.epoch,
            "tensors": name,
            "has_best": state.best_state is not None,
            "best_score": state.best_score,
            "best_epoch": state.best_epoch,
            "optimizer": opt_meta,
            "rng": rng_meta,
            "history": state.history,
        }
        _write_json(self.path / "state.json", meta)
        for old in self.path.glob("state-*.safetensors"):
            if old.name != name:
                old.unlink()

    def load_state(self, generators: Generators) -> RunState | None:
        """The saved state (RNGs restored in place), or ``None`` when the run has not finished an epoch."""
        file = self.path / "state.json"
        if not file.is_file():
            return None
        meta = json.loads(file.read_text())
        tensors = load_file(str(self.path / meta["tensors"]))
        _restore_rng(tensors, meta["rng"], generators)
        history = meta["history"]
        self._write_log(history)  # drop rows of an epoch whose state was never saved
        return RunState(
            meta["epoch"],
            _prefixed(tensors, "model."),
            _optimizer_state(tensors, meta["optimizer"]),
            _prefixed(tensors, "best.") if meta["has_best"] else None,
            meta["best_score"],
            meta["best_epoch"],
            history,
        )

    def append_log(self, row: Mapping) -> None:
        """Add one epoch's row to ``log.jsonl``."""
        with (self.path / "log.jsonl").open("a") as handle:
            handle.write(json.dumps(jsonable(row)) + "\n")

    def _write_log(self, rows: list[dict]) -> None:
        tmp = self.path / "log.jsonl.tmp"
        tmp.write_text("".join(json.dumps(jsonable(r)) + "\n" for r in rows))
        tmp.replace(self.path / "log.jsonl")

    def finish(self, best_state: Mapping[str, torch.Tensor], result: Mapping) -> None:
        """Store the kept weights and the result; the resumable state is removed."""
        _save_tensors(self.path / "best.safetensors", best_state)
        _write_json(self.path / "result.json", {"config_sha256": self.sha256, **result})
        (self.path / "state.json").unlink(missing_ok=True)
        for old in self.path.glob("state-*.safetensors"):
            old.unlink()
