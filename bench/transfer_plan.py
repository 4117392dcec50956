"""What a task-transfer plan costs before it runs: CPU seconds from measured per-molecule rates.

``workbench bench transfer --plan`` prints this for the chosen options without training anything. The rates are
CPU time per molecule with one PyTorch thread (GIN 5×300, batch 32), measured on the 2-CPU machine while other
jobs kept its load average at 6–10 (``time.process_time`` around 12 training steps per network kind); the estimate
assumes every network runs all its epochs (early stopping only shortens it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

#: CPU ms per molecule and training pass (one thread): Tox21 3.6–4.2 (mtl 4.1, kt 3.6, GradNorm 3.8, uw 4.2),
#: SIDER 5.2–6.2 (larger molecules); the highest of each is used.
TRAIN_MS = {"tox21": 4.2, "sider": 6.2}
#: CPU ms per molecule for a forward pass without gradients (validation, test, the EBM's logits).
INFER_MS = 3.3
#: CPU seconds per XGBoost fit (sparse ECFP4): a helper model (150 trees) and a target model (up to 400 trees).
XGB_HELPER_S = {"tox21": 2.5, "sider": 0.6}
XGB_TARGET_S = {"tox21": 4.0, "sider": 1.0}
HELPER_FOLDS = 3


def _network_s(dataset: str, rows: int, settings, n_valid: int, n_test: int) -> float:
    from workbench.train.multitask import passes_per_epoch

    passes = passes_per_epoch(rows, settings.batch_size, settings.min_steps)
    epoch = rows * passes * TRAIN_MS[dataset] / 1000 + n_valid * INFER_MS / 1000
    return settings.epochs * epoch + (n_valid + n_test) * INFER_MS / 1000


def plan_seconds(keys: Sequence, settings, load: Callable[[str], object]) -> dict[str, float]:
    """Estimated CPU seconds per data set for running every key (``best`` counted as arm ``kt``)."""
    import numpy as np

    from workbench.transfer.protocol import mask_labels, target_tasks

    out: dict[str, float] = {}
    data_sets: dict[str, object] = {}
    networks: set[tuple] = set()
    helpers: set[tuple] = set()
    for key in keys:
        if key.dataset not in data_sets:
            data_sets[key.dataset] = load(key.dataset)
        data = data_sets[key.dataset]
        targets = target_tasks(data.name, data.tasks, data.y[data.train], key.target_set)
        masked = mask_labels(data.y, data.train, data.tasks, targets, key.fraction, key.seed)
        n_valid, n_test = len(data.valid), len(data.test)
        group = (key.dataset, key.target_set, round(key.fraction, 4), key.seed)
        arm = "kt" if key.arm == "best" else key.arm
        seconds = 0.0
        labelled = int((~np.isnan(masked.y[data.train])).any(axis=1).sum())
        if arm == "single":
            for column in masked.target_index:
                rows = int((~np.isnan(masked.y[data.train, column])).sum())
                seconds += _network_s(key.dataset, rows, settings, n_valid, n_test)
        elif arm in ("mtl", "uw", "gradnorm", "kt", "ebm"):
            kind = "mtl" if arm == "ebm" else arm
            if (group, kind) not in networks:
                networks.add((group, kind))
                seconds += _network_s(key.dataset, labelled, settings, n_valid, n_test)
            if arm == "ebm":
                seconds += (labelled + n_valid + n_test) * INFER_MS / 1000
        else:  # xgb, xgb_helpers
            seconds += len(targets) * XGB_TARGET_S[key.dataset]
            if arm == "xgb_helpers":
                for h in masked.helper_index:
                    if (key.dataset, key.seed, h) not in helpers:
                        helpers.add((key.dataset, key.seed, h))
                        seconds += HELPER_FOLDS * XGB_HELPER_S[key.dataset]
        out[key.dataset] = out.get(key.dataset, 0.0) + seconds
    return out


def plan_text(keys: Sequence, sweep: Sequence, settings, load: Callable[[str], object]) -> str:
    """A few lines: cells, and the estimated CPU hours per data set and in all."""
    main, extra = plan_seconds(keys, settings, load), plan_seconds(sweep, settings, load)
    total = sum(main.values()) + sum(extra.values())
    lines = [f"{len(keys)} cells at 10 % and {len(sweep)} sweep cells; at most {settings.epochs} epochs per network"]
    for dataset in dict.fromkeys([*main, *extra]):
        hours = (main.get(dataset, 0.0) + extra.get(dataset, 0.0)) / 3600
        lines.append(f"  {dataset}: {hours:.2f} CPU hours (one thread; sweep {extra.get(dataset, 0.0) / 3600:.2f})")
    lines.append(f"  total: {total / 3600:.2f} CPU hours, {math.ceil(total / 60)} CPU minutes (an upper bound)")
    return "\n".join(lines)
