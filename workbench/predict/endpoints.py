"""The curated endpoint panel: which model tasks answer which chemist's question, and how to read a value.

Every threshold below names its source; where a cut-off is a convention, it says whose. Endpoints without
an agreed cut-off (clearance, plasma protein binding) get no verdict: their approved-drug percentile is the
context instead. Readable names for every task of every model (:func:`task_label`) come from the card
(``title``), then from :data:`TASK_LABELS` / :data:`DATASET_LABELS`, then from the task name itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from workbench.models.card import ModelCard

__all__ = [
    "DATASET_LABELS",
    "DRUGLIKENESS",
    "ENDPOINTS",
    "LEVEL_ICONS",
    "PROBABILITY_SOURCE",
    "TASK_LABELS",
    "Band",
    "Endpoint",
    "Level",
    "Rule",
    "task_label",
    "task_units",
    "verdict",
]

#: good = favourable, caution = borderline or uncertain, bad = unfavourable, info = neither (depends on the
#: project, e.g. brain penetration), none = no stated threshold.
Level = Literal["good", "caution", "bad", "info", "none"]
LEVEL_ICONS: dict[str, str] = {"good": "🟢", "caution": "🟡", "bad": "🔴", "info": "🔵", "none": "⚪"}

#: ADMETlab 2.0 turns classifier probabilities into symbols (0–0.1 −−−, 0.1–0.3 −−, 0.3–0.5 −, 0.5–0.7 +,
#: 0.7–0.9 ++, 0.9–1 +++) and advises not to trust the + and − band, 0.3–0.7.
PROBABILITY_SOURCE = (
    "ADMETlab 2.0 convention: below 0.3 read as negative, 0.3–0.7 not to be trusted, 0.7 and above read as "
    "positive (Xiong et al., Nucleic Acids Res. 49, W5–W14, 2021)"
)
PROBABILITY_LOW, PROBABILITY_HIGH = 0.3, 0.7


@dataclass(frozen=True)
class Band:
    """A value range ``[lower, upper]`` with its verdict; the first band of a rule that holds a value wins."""

    lower: float
    upper: float
    level: Level
    text: str


@dataclass(frozen=True)
class Rule:
    """How a value becomes a verdict: probability bands (ADMETlab 2.0) or value bands, with the source."""

    kind: Literal["probability", "bands", "none"]
    #: probability rules: what the positive class means for a drug candidate
    positive: Literal["good", "bad", "neutral"] = "bad"
    positive_text: str = ""
    negative_text: str = ""
    bands: tuple[Band, ...] = ()
    #: the threshold in words, and where it comes from
    text: str = ""
    source: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One question of the panel, answered by the best of several model tasks."""

    key: str
    name: str
    units: str
    #: ``(model, task)`` pairs able to answer, in order of preference when their card metrics tie
    candidates: tuple[tuple[str, str], ...]
    rule: Rule
    #: radar axis label and orientation: +1 = a higher percentile is favourable, -1 = lower is, 0 = not on the radar
    axis: str = ""
    orientation: int = 0
    meaning: str = ""


def _probability(positive: Literal["good", "bad", "neutral"], yes: str, no: str) -> Rule:
    text = f"p ≥ {PROBABILITY_HIGH}: {yes}; p < {PROBABILITY_LOW}: {no}; in between: uncertain"
    return Rule("probability", positive, yes, no, text=text, source=PROBABILITY_SOURCE)


_NO_THRESHOLD = Rule(
    "none", text="no agreed cut-off", source="none stated; compare the approved-drug percentile instead"
)

SOLUBILITY_RULE = Rule(
    "bands",
    bands=(
        Band(-2.0, math.inf, "good", "soluble"),
        Band(-4.0, -2.0, "caution", "slightly soluble"),
        Band(-math.inf, -4.0, "bad", "insoluble"),
    ),
    text="logS ≥ −2 soluble; −4 to −2 slightly soluble; < −4 insoluble",
    source=(
        "AqSolDB solubility categories (Sorkun, Khetan & Er, Sci. Data 6, 143, 2019); more than 80% of "
        "marketed drugs have logS > −4 (OpenMolecules DataWarrior property explorer)"
    ),
)
LOGD_RULE = Rule(
    "bands",
    bands=(
        Band(1.0, 3.0, "good", "in the 1–3 range"),
        Band(3.0, math.inf, "caution", "above 3 (high)"),
        Band(-math.inf, 1.0, "caution", "below 1 (low)"),
    ),
    text="logD7.4 between 1 and 3 favourable; outside: caution",
    source="optimal logD range of about 1–3 (Waring, Expert Opin. Drug Discov. 5, 235–248, 2010)",
)

#: The curated panel, in display order.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "solubility",
        "Aqueous solubility",
        "logS, log mol/L",
        (
            ("admet_ai", "Solubility_AqSolDB"),
            ("esol_champion", "log_solubility"),
            ("esol_svr", "log_solubility"),
            ("esol_gin", "log_solubility"),
        ),
        SOLUBILITY_RULE,
        axis="Solubility",
        orientation=1,
        meaning="log10 of the solubility in water, mol/L",
    ),
    Endpoint(
        "lipophilicity",
        "Lipophilicity, logD at pH 7.4",
        "log units",
        (
            ("admet_ai", "Lipophilicity_AstraZeneca"),
            ("lipophilicity_champion", "logD"),
            ("minimol_lipophilicity", "logD"),
        ),
        LOGD_RULE,
        meaning="octanol/buffer distribution coefficient at pH 7.4 (AstraZeneca ChEMBL set)",
    ),
    Endpoint(
        "absorption",
        "Human intestinal absorption",
        "probability",
        (("admet_ai", "HIA_Hou"),),
        _probability("good", "likely absorbed", "likely poorly absorbed"),
        axis="Absorption",
        orientation=1,
        meaning="probability of the 'absorbed' class of the Hou et al. data set (TDC HIA_Hou)",
    ),
    Endpoint(
        "bioavailability",
        "Oral bioavailability",
        "probability",
        (("admet_ai", "Bioavailability_Ma"),),
        _probability("good", "likely bioavailable", "likely poorly bioavailable"),
        axis="Bioavailability",
        orientation=1,
        meaning="probability of the 'bioavailable' class of the Ma et al. data set (TDC Bioavailability_Ma)",
    ),
    Endpoint(
        "bbb",
        "Blood–brain barrier penetration",
        "probability",
        (
            ("admet_ai", "BBB_Martins"),
            ("bbbp_champion", "p_np"),
            ("minimol_bbbp", "p_np"),
            ("bbbp_gin", "p_np"),
        ),
        _probability("neutral", "likely crosses", "likely does not cross"),
        meaning="probability of the 'penetrating' class (Martins et al. BBBP data); wanted for CNS targets only",
    ),
    Endpoint(
        "herg",
        "hERG blocking, cardiotoxicity risk",
        "probability",
        (("admet_ai", "hERG"),),
        _probability("bad", "likely blocker", "likely non-blocker"),
        axis="hERG safety",
        orientation=-1,
        meaning="probability of the 'blocker' class (TDC hERG)",
    ),
    Endpoint(
        "cyp3a4",
        "CYP3A4 inhibition",
        "probability",
        (("admet_ai", "CYP3A4_Veith"),),
        _probability("bad", "likely inhibitor", "likely non-inhibitor"),
        axis="CYP3A4 safety",
        orientation=-1,
        meaning="probability of the 'inhibitor' class (Veith et al. 2009, PubChem AID 1851)",
    ),
    Endpoint(
        "cyp2d6",
        "CYP2D6 inhibition",
        "probability",
        (("admet_ai", "CYP2D6_Veith"),),
        _probability("bad", "likely inhibitor", "likely non-inhibitor"),
        meaning="probability of the 'inhibitor' class (Veith et al. 2009, PubChem AID 1851)",
    ),
    Endpoint(
        "cyp2c9",
        "CYP2C9 inhibition",
        "probability",
        (("admet_ai", "CYP2C9_Veith"),),
        _probability("bad", "likely inhibitor", "likely non-inhibitor"),
        meaning="probability of the 'inhibitor' class (Veith et al. 2009, PubChem AID 1851)",
    ),
    Endpoint(
        "ames",
        "Mutagenicity (Ames)",
        "probability",
        (("admet_ai", "AMES"),),
        _probability("bad", "likely mutagenic", "likely not mutagenic"),
        axis="Ames safety",
        orientation=-1,
        meaning="probability of the 'mutagenic' class (TDC AMES)",
    ),
    Endpoint(
        "dili",
        "Drug-induced liver injury",
        "probability",
        (("admet_ai", "DILI"),),
        _probability("bad", "likely liver injury", "likely no liver injury"),
        axis="Liver safety",
        orientation=-1,
        meaning="probability of the 'DILI' class (TDC DILI)",
    ),
    Endpoint(
        "clintox",
        "Clinical-trial toxicity",
        "probability",
        (("admet_ai", "ClinTox"), ("clintox_champion", "CT_TOX")),
        _probability("bad", "likely failed for toxicity", "likely no clinical toxicity"),
        axis="Clinical safety",
        orientation=-1,
        meaning="probability of the 'failed clinical trials for toxicity' class (ClinTox)",
    ),
    Endpoint(
        "clearance",
        "Hepatocyte clearance",
        "µL/min/10⁶ cells",
        (("admet_ai", "Clearance_Hepatocyte_AZ"),),
        _NO_THRESHOLD,
        meaning="intrinsic clearance in human hepatocytes (AstraZeneca set, TDC)",
    ),
    Endpoint(
        "ppbr",
        "Plasma protein binding",
        "%",
        (("admet_ai", "PPBR_AZ"),),
        _NO_THRESHOLD,
        meaning="percentage bound to plasma proteins (AstraZeneca set, TDC)",
    ),
)

#: Rule-based drug-likeness rows, computed from the structure (no model).
DRUGLIKENESS: tuple[tuple[str, str, str], ...] = (
    (
        "Lipinski rule of five",
        "at most one of MW ≤ 500, cLogP ≤ 5, H-bond donors ≤ 5, acceptors ≤ 10 broken",
        "Lipinski et al., Adv. Drug Deliv. Rev. 23, 3–25, 1997 (poor absorption more likely when two or "
        "more limits are exceeded)",
    ),
    (
        "Veber rules",
        "rotatable bonds ≤ 10 and polar surface area ≤ 140 Å²",
        "Veber et al., J. Med. Chem. 45, 2615–2623, 2002 (oral bioavailability in rat)",
    ),
)

#: Readable names of MoleculeNet data sets (single-task models are named after their data set).
DATASET_LABELS: dict[str, str] = {
    "bbbp": "Blood–brain barrier penetration (BBBP)",
    "bace": "BACE-1 inhibition (BACE)",
    "hiv": "HIV replication inhibition (HIV)",
    "esol": "Aqueous solubility (ESOL)",
    "freesolv": "Hydration free energy (FreeSolv)",
    "lipophilicity": "Lipophilicity, logD at pH 7.4",
    "tox21": "Tox21",
    "sider": "SIDER side effects",
    "clintox": "ClinTox",
}

#: Readable names of the tasks of multi-task data sets (Tox21 assay names as in ADMET-AI's card).
TASK_LABELS: dict[str, str] = {
    "FDA_APPROVED": "FDA approval",
    "CT_TOX": "Clinical-trial toxicity",
    "NR-AR": "Androgen receptor (full length)",
    "NR-AR-LBD": "Androgen receptor (ligand-binding domain)",
    "NR-AhR": "Aryl hydrocarbon receptor",
    "NR-Aromatase": "Aromatase",
    "NR-ER": "Estrogen receptor (full length)",
    "NR-ER-LBD": "Estrogen receptor (ligand-binding domain)",
    "NR-PPAR-gamma": "PPAR-gamma",
    "SR-ARE": "Antioxidant response element (Nrf2/ARE)",
    "SR-ATAD5": "ATAD5 (genotoxicity)",
    "SR-HSE": "Heat shock response element",
    "SR-MMP": "Mitochondrial membrane potential",
    "SR-p53": "p53 (DNA damage)",
}


def _humanize(name: str) -> str:
    return " ".join(name.replace("_", " ").split()) or name


def task_label(card: ModelCard, task: str) -> str:
    """A readable name for one task of one model: the card's title, a known name, else the cleaned task name."""
    spec = next((t for t in card.tasks if t.name == task), None)
    if spec is not None and spec.title:
        return spec.title
    dataset = card.data.dataset
    where = DATASET_LABELS.get(dataset, dataset)
    if task in TASK_LABELS:
        return f"{TASK_LABELS[task]} ({where})"
    if len(card.tasks) == 1 and dataset in DATASET_LABELS:
        return DATASET_LABELS[dataset]
    return f"{_humanize(task)} ({where})"


def task_units(card: ModelCard, task: str) -> str:
    """The task's units from the card; ``probability`` for classification tasks; empty when unknown."""
    spec = next((t for t in card.tasks if t.name == task), None)
    if spec is None:
        return ""
    return "probability" if spec.is_classification else (spec.units or "")


def verdict(rule: Rule, value: float) -> tuple[Level, str]:
    """The verdict of one value under a rule: a level and a few words (``none`` when there is no threshold)."""
    if not math.isfinite(value):
        return "none", "no prediction"
    if rule.kind == "probability":
        yes = {"good": "good", "bad": "bad", "neutral": "info"}[rule.positive]
        no = {"good": "bad", "bad": "good", "neutral": "info"}[rule.positive]
        if value >= PROBABILITY_HIGH:
            return yes, rule.positive_text
        if value < PROBABILITY_LOW:
            return no, rule.negative_text
        return "caution", "uncertain (0.3–0.7)"
    for band in rule.bands:
        if band.lower <= value <= band.upper:
            return band.level, band.text
    return "none", "no stated threshold"
