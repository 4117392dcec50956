"""The model card as typed data, read through attributes.

A card is the JSON metadata of a checkpoint folder (``card.json``, format in
:mod:`workbench.models.card_schema`). :meth:`ModelCard.from_dict` upgrades an older format where the
change is mechanical, validates against :data:`CARD_SCHEMA`, then builds typed parts; keys a part does
not know are kept in its ``extra``. :meth:`ModelCard.to_dict` gives the JSON back exactly: the same
keys in the same order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, Self

from workbench.models.card_schema import (
    CARD_FILE,
    CARD_SCHEMA,
    FORMAT_VERSION,
    WEIGHT_FORMATS,
    CheckpointError,
    upgrade_card,
    validate_card,
)

__all__ = [
    "CARD_FILE",
    "CARD_SCHEMA",
    "FORMAT_VERSION",
    "WEIGHT_FORMATS",
    "Architecture",
    "CheckpointError",
    "DataInfo",
    "Featurizer",
    "Metric",
    "ModelCard",
    "ReferenceFile",
    "Source",
    "Split",
    "TargetScaling",
    "Task",
    "Unfeaturizable",
    "WeightFile",
    "upgrade_card",
    "validate_card",
]

_META = ("extra", "key_order")
_Loader = Callable[[Any], Any]


def _dump(value: Any) -> Any:
    """JSON value of a typed part, tuple, mapping or scalar (always a fresh copy)."""
    if isinstance(value, _Part):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _tuple(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


def _many(part: type[_Part]) -> Callable[[Any], tuple | None]:
    return lambda value: None if value is None else tuple(part.from_json(v) for v in value)


def _one(part: type[_Part]) -> Callable[[Any], _Part | None]:
    return lambda value: None if value is None else part.from_json(value)


@dataclass(frozen=True, kw_only=True)
class _Part:
    """Typed fields; unknown keys in ``extra``; the JSON key order in ``key_order`` (for an exact round trip)."""

    #: keys of the JSON object this part does not type, with their values
    extra: dict[str, Any] = field(default_factory=dict)
    #: the JSON object's keys in their order ((): typed fields in declaration order, then ``extra``)
    key_order: tuple[str, ...] = field(default=(), repr=False, compare=False)

    #: field name -> function turning its JSON value into the typed one (default: a deep copy)
    _LOADERS: ClassVar[dict[str, _Loader]] = {}
    #: optional fields JSON never holds as null: set to ``None``, they are left out (other ``None`` values
    #: read from the JSON are written back as null)
    _OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        """Build the part from its (already validated) JSON object."""
        names = {f.name for f in fields(cls)} - set(_META)
        known = {k: cls._LOADERS.get(k, copy.deepcopy)(v) for k, v in raw.items() if k in names}
        extra = {k: copy.deepcopy(v) for k, v in raw.items() if k not in names}
        return cls(**known, extra=extra, key_order=tuple(raw))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: keys in their original order; fields set later and ``extra`` keys after them."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _META}
        order = list(self.key_order)
        order += [k for k, v in values.items() if k not in order and v is not None]
        order += [k for k in self.extra if k not in order]
        out: dict[str, Any] = {}
        for key in order:
            if key in values:
                if values[key] is None and key in self._OMIT_NONE:
                    continue
                out[key] = _dump(values[key])
            elif key in self.extra:
                out[key] = _dump(self.extra[key])
        return out


@dataclass(frozen=True, kw_only=True)
class Architecture(_Part):
    """The model kind (a key of the builders' ``ARCHITECTURES`` table) and its builder's config."""

    type: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Featurizer(_Part):
    """How molecules become model inputs: featurizer name, version and parameters."""

    name: str
    version: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Task(_Part):
    """One predicted endpoint."""

    name: str
    type: Literal["classification", "regression"]
    units: str | None = None
    title: str | None = None
    category: str | None = None

    _OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"units", "title", "category"})

    @property
    def is_classification(self) -> bool:
        return self.type == "classification"


@dataclass(frozen=True, kw_only=True)
class TargetScaling(_Part):
    """Per-task mean and std the regression targets were standardised with."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    _LOADERS: ClassVar[dict[str, _Loader]] = {"mean": _tuple, "std": _tuple}


@dataclass(frozen=True, kw_only=True)
class WeightFile(_Part):
    """One weight file of the folder with its sha256; ``task``/``part``/``role`` say which model it holds."""

    file: str
    sha256: str
    format: str
    seed: int | None = None
    task: int | None = None
    part: str | None = None
    role: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReferenceFile(_Part):
    """A file inference reads instead of recomputing: the domain index or the percentile reference.

    ``shared``: the file is in the shared folder beside the checkpoint folders (``models/_shared/``, named by its
    sha256, one copy for every card that lists it) instead of in the checkpoint's own folder.
    """

    file: str
    kind: str
    sha256: str
    molecules: int | None = None
    shared: bool | None = None

    _OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"shared"})


@dataclass(frozen=True, kw_only=True)
class Unfeaturizable(_Part):
    """A data-set row left out of training because it could not be featurized."""

    row: int
    smiles: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DataInfo(_Part):
    """The training data: data set name, file and its sha256, and counts of what was used."""

    dataset: str
    sha256: str
    file: str | None = None
    molecules: int | None = None
    dropped: int | None = None
    pairs: int | None = None
    er_molecules: int | None = None
    not_embedded: int | None = None
    reference: str | None = None
    unfeaturizable: tuple[Unfeaturizable, ...] | None = None

    _LOADERS: ClassVar[dict[str, _Loader]] = {"unfeaturizable": _many(Unfeaturizable)}


@dataclass(frozen=True, kw_only=True)
class Split(_Part):
    """How the data were split: kind, seed, fractions and the train/valid/test sizes."""

    kind: str
    seed: int | None = None
    fractions: tuple[float, ...] | None = None
    sizes: tuple[int, ...] | None = None
    note: str | None = None

    _LOADERS: ClassVar[dict[str, _Loader]] = {"fractions": _tuple, "sizes": _tuple}


@dataclass(frozen=True, kw_only=True)
class Metric(_Part):
    """One metric over the seeds: mean, std and the per-seed values (``None`` where undefined)."""

    mean: float | None
    std: float | None
    per_seed: tuple[float | None, ...] = ()

    _LOADERS: ClassVar[dict[str, _Loader]] = {"per_seed": _tuple}


@dataclass(frozen=True, kw_only=True)
class Source(_Part):
    """Where imported weights came from: package, version and the sha256 of each source file."""

    package: str | None = None
    version: str | None = None
    files_sha256: dict[str, str] | None = None


def _metrics(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Metric]]:
    return {part: {name: Metric.from_json(m) for name, m in block.items()} for part, block in raw.items()}


@dataclass(frozen=True, kw_only=True)
class ModelCard(_Part):
    """A checkpoint's validated card.

    ``metrics`` maps a split part (``valid``, ``test``, ``published:<task>``) to metric name -> :class:`Metric`;
    ``training`` and ``init_encoder`` are free-form records of how a model was trained.
    """

    format_version: int
    name: str
    architecture: Architecture
    featurizer: Featurizer
    tasks: tuple[Task, ...]
    weights: tuple[WeightFile, ...]
    data: DataInfo
    split: Split
    seeds: tuple[int, ...]
    metrics: dict[str, dict[str, Metric]]
    command: str
    created: str
    description: str | None = None
    group: str | None = None
    target_scaling: TargetScaling | None = None
    source: Source | None = None
    training: dict[str, Any] | None = None
    init_encoder: dict[str, Any] | None = None
    workbench_version: str | None = None
    references: tuple[ReferenceFile, ...] | None = None
    calibration: dict[str, Any] | None = None

    _LOADERS: ClassVar[dict[str, _Loader]] = {
        "architecture": _one(Architecture),
        "featurizer": _one(Featurizer),
        "tasks": _many(Task),
        "weights": _many(WeightFile),
        "data": _one(DataInfo),
        "split": _one(Split),
        "seeds": _tuple,
        "metrics": _metrics,
        "target_scaling": _one(TargetScaling),
        "source": _one(Source),
        "references": _many(ReferenceFile),
    }
    _OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {
            "description",
            "group",
            "target_scaling",
            "source",
            "training",
            "init_encoder",
            "workbench_version",
            "references",
            "calibration",
        }
    )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelCard:
        """Upgrade (if older and mechanical), validate against :data:`CARD_SCHEMA`, and build the card.

        Raises:
            CheckpointError: the card is invalid, newer than this workbench, or older with no upgrade.
        """
        card = upgrade_card(dict(raw) if isinstance(raw, Mapping) else raw)
        validate_card(card)
        return cls.from_json(card)

    @property
    def task_names(self) -> list[str]:
        """Task names in output order."""
        return [t.name for t in self.tasks]

    def reference(self, kind: str) -> ReferenceFile | None:
        """The stored reference file of one kind (``domain_index``, ``percentile_reference``), if any."""
        return next((r for r in self.references or () if r.kind == kind), None)

    def metric_block(self, part: str) -> dict[str, Metric]:
        """The metrics of one part (``test``, ``valid``, ...); empty when the card has none."""
        return self.metrics.get(part, {})
