"""How many Ray screening actors, and what each reserves: the rule that keeps a CPU free for Ray's read tasks."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = ["READ_CPUS", "ActorSizing", "StageSizing", "actor_sizing", "staged_sizing"]

#: Logical CPUs kept for Ray Data's own tasks (the library read tasks ask for this much; the driver consumes the
#: results outside Ray). Actors together reserve at most the cluster's CPUs minus this (:func:`actor_sizing`).
READ_CPUS = 1.0


@dataclass(frozen=True)
class ActorSizing:
    """How many screening actors, and what each reserves; what a read task reserves."""

    actors: int
    cpus_per_actor: float
    gpus_per_actor: float
    read_cpus: float
    threads: int  # torch threads per actor


def actor_sizing(cpus: float, gpus: float = 0, actors: int | None = None) -> ActorSizing:
    """The rule for the actors' resources, so that Ray's read tasks always find a free CPU.

    Measured here: on a 2-CPU machine, two actors that each reserve a whole CPU leave nothing for the read tasks
    and the job stalls (actors wait for chunks that no read task can be scheduled to produce). So the actors
    together reserve at most ``cpus - free`` logical CPUs, where ``free`` (what each read task asks for) is one CPU,
    or half of a machine with fewer than two. Actors: one per GPU when there are GPUs (``num_gpus=1`` each), else
    one per CPU on small machines (up to 2 CPUs: two actors of 0.5 CPU on 2 CPUs, like the local engine's two
    workers) and ``cpus - 1`` on larger ones; ``actors`` overrides the count, never the rule.

    Args:
        cpus: logical CPUs of the Ray cluster (``ray.cluster_resources()["CPU"]``).
        gpus: GPUs of the cluster to use (0: CPU actors).
        actors: the number of actors (``--workers``), else the default above.
    """
    if cpus <= 0:
        raise ValueError(f"the Ray cluster has no CPU ({cpus})")
    free = min(READ_CPUS, cpus / 2)
    whole_gpus = int(gpus)
    if actors is None:
        by_cpu = max(1, int(cpus) - 1) if cpus >= 3 else max(1, int(cpus))
        actors = whole_gpus if whole_gpus >= 1 else by_cpu
    if actors < 1:
        raise ValueError(f"actors must be at least 1, not {actors}")
    # rounded down to 1/100 CPU, so that rounding never takes the reservations past `cpus - free`
    per_actor = min(1.0, math.floor((cpus - free) / actors * 100) / 100)
    if per_actor <= 0:
        raise ValueError(f"{actors} actors do not fit on {cpus:g} CPUs with {free:g} kept for reading")
    gpus_per_actor = min(1.0, whole_gpus / actors) if whole_gpus >= 1 else 0.0  # more actors than GPUs: they share
    return ActorSizing(actors, per_actor, gpus_per_actor, free, max(1, int(cpus // actors)))


@dataclass(frozen=True)
class StageSizing:
    """A screen with a featurization stage: the screening actors and the CPU actors that featurize for them."""

    screen: ActorSizing
    featurizers: int
    cpus_per_featurizer: float


def _down(value: float) -> float:
    return math.floor(value * 100) / 100


def staged_sizing(cpus: float, gpus: float = 0, actors: int | None = None) -> StageSizing:
    """:func:`actor_sizing`'s rule with a featurization stage between the reads and the screening actors.

    The reads keep their CPU; the screening actors (one per GPU, they run networks only) reserve at most half of the
    rest, and at most what :func:`actor_sizing` gives them; the featurizers share what is left, one whole CPU each
    where there is more than one (a 16-CPU, 1-GPU node: 1 screening actor of 1 CPU, 14 featurizers), else one
    featurizer with the remainder (2 CPUs: two screening actors of 0.25 CPU and one featurizer of 0.5).
    """
    base = actor_sizing(cpus, gpus, actors)
    budget = cpus - base.read_cpus
    per_actor = _down(min(base.cpus_per_actor, budget / (2 * base.actors)))
    rest = budget - per_actor * base.actors
    featurizers = max(1, int(rest))
    per_featurizer = _down(min(1.0, rest / featurizers))
    if per_actor <= 0 or per_featurizer <= 0:
        raise ValueError(f"{base.actors} actors and a featurizer do not fit on {cpus:g} CPUs")
    return StageSizing(dataclasses.replace(base, cpus_per_actor=per_actor), featurizers, per_featurizer)
