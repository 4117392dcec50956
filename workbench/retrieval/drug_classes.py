"""Drug-class check of the text search: three queries against the approved-drug library, members counted.

The member lists below are written down from public pharmacological knowledge (the drug classes as
pharmacology textbooks and the WHO ATC classification list them), as the exact names the approved-drug
library uses (salt forms included: a hit that merges salts counts once). They are used ONLY to *evaluate*
the search (:func:`drug_check`, the retrieval benchmark and its tests): never by a model, its training, or
the ranking the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["DRUG_CLASSES", "DrugClass", "count_members", "drug_check"]


@dataclass(frozen=True)
class DrugClass:
    """A query and the approved drugs that belong to the class it asks for."""

    key: str
    query: str
    members: frozenset[str]
    note: str = ""


#: Nonsteroidal anti-inflammatory drugs (COX inhibitors: salicylates, propionic and acetic acids, fenamates,
#: oxicams, coxibs, pyrazolidinediones). Paracetamol and the 5-aminosalicylates (mesalamine, ...) are left out.
NSAIDS = frozenset(
    (
        "ASPIRIN",
        "DIFLUNISAL",
        "IBUPROFEN",
        "IBUPROFEN LYSINE",
        "IBUPROFEN SODIUM",
        "NAPROXEN",
        "NAPROXEN SODIUM",
        "KETOPROFEN",
        "FENOPROFEN",
        "FENOPROFEN CALCIUM",
        "FLURBIPROFEN",
        "FLURBIPROFEN SODIUM",
        "OXAPROZIN",
        "OXAPROZIN POTASSIUM",
        "BENOXAPROFEN",
        "CARPROFEN",
        "INDOPROFEN",
        "PIRPROFEN",
        "SUPROFEN",
        "INDOMETHACIN",
        "INDOMETHACIN SODIUM",
        "SULINDAC",
        "TOLMETIN",
        "TOLMETIN SODIUM",
        "DICLOFENAC",
        "DICLOFENAC EPOLAMINE",
        "DICLOFENAC POTASSIUM",
        "DICLOFENAC SODIUM",
        "FENCLOFENAC",
        "BROMFENAC",
        "BROMFENAC SODIUM",
        "NEPAFENAC",
        "ETODOLAC",
        "KETOROLAC",
        "KETOROLAC TROMETHAMINE",
        "NABUMETONE",
        "MEFENAMIC ACID",
        "MECLOFENAMIC ACID",
        "MECLOFENAMATE SODIUM",
        "PIROXICAM",
        "MELOXICAM",
        "CELECOXIB",
        "ROFECOXIB",
        "VALDECOXIB",
        "PHENYLBUTAZONE",
        "OXYPHENBUTAZONE",
    )
)

#: Beta-lactam antibiotics: penicillins, cephalosporins and cephamycins, oxacephems, carbapenems, monobactams and
#: carbacephems. The beta-lactamase inhibitors (clavulanic acid, sulbactam, tazobactam) are beta-lactams but not
#: antibiotics on their own and are left out.
BETA_LACTAMS = frozenset(
    (
        "AMDINOCILLIN",
        "AMOXICILLIN",
        "AMPICILLIN",
        "AMPICILLIN SODIUM",
        "AZLOCILLIN",
        "AZLOCILLIN SODIUM",
        "BACAMPICILLIN",
        "BACAMPICILLIN HYDROCHLORIDE",
        "BENZYLPENICILLIN",
        "CARBENICILLIN DISODIUM",
        "CARBENICILLIN INDANYL",
        "CARBENICILLIN INDANYL SODIUM",
        "CLOXACILLIN",
        "CLOXACILLIN SODIUM",
        "CYCLACILLIN",
        "DICLOXACILLIN",
        "DICLOXACILLIN SODIUM",
        "HETACILLIN",
        "HETACILLIN POTASSIUM",
        "METHICILLIN",
        "METHICILLIN SODIUM",
        "MEZLOCILLIN",
        "MEZLOCILLIN SODIUM",
        "NAFCILLIN",
        "NAFCILLIN SODIUM",
        "OXACILLIN",
        "OXACILLIN SODIUM",
        "PENICILLIN G BENZATHINE",
        "PENICILLIN G POTASSIUM",
        "PENICILLIN G PROCAINE",
        "PENICILLIN G SODIUM",
        "PENICILLIN V",
        "PENICILLIN V POTASSIUM",
        "PIPERACILLIN",
        "PIPERACILLIN SODIUM",
        "PROCAINE BENZYLPENICILLIN",
        "TICARCILLIN",
        "TICARCILLIN DISODIUM",
        "CEFACLOR",
        "CEFADROXIL",
        "CEFAMANDOLE NAFATE",
        "CEFAZOLIN",
        "CEFAZOLIN SODIUM",
        "CEFDINIR",
        "CEFDITOREN PIVOXIL",
        "CEFEPIME",
        "CEFEPIME HYDROCHLORIDE",
        "CEFIDEROCOL",
        "CEFIDEROCOL SULFATE TOSYLATE",
        "CEFIXIME",
        "CEFMENOXIME",
        "CEFMENOXIME HYDROCHLORIDE",
        "CEFMETAZOLE",
        "CEFMETAZOLE SODIUM",
        "CEFONICID",
        "CEFONICID SODIUM",
        "CEFOPERAZONE",
        "CEFOPERAZONE SODIUM",
        "CEFORANIDE",
        "CEFOTAXIME",
        "CEFOTAXIME SODIUM",
        "CEFOTETAN",
        "CEFOTETAN DISODIUM",
        "CEFOTIAM",
        "CEFOTIAM HYDROCHLORIDE",
        "CEFOXITIN",
        "CEFOXITIN SODIUM",
        "CEFPIRAMIDE",
        "CEFPIRAMIDE SODIUM",
        "CEFPODOXIME PROXETIL",
        "CEFPROZIL",
        "CEFTAROLINE FOSAMIL",
        "CEFTAROLINE FOSAMIL ACETATE",
        "CEFTAZIDIME",
        "CEFTAZIDIME SODIUM",
        "CEFTIBUTEN",
        "CEFTIZOXIME",
        "CEFTIZOXIME SODIUM",
        "CEFTOLOZANE",
        "CEFTOLOZANE SULFATE",
        "CEFTRIAXONE",
        "CEFTRIAXONE SODIUM",
        "CEFUROXIME AXETIL",
        "CEFUROXIME SODIUM",
        "CEPHALEXIN",
        "CEPHALEXIN HYDROCHLORIDE",
        "CEPHALOGLYCIN",
        "CEPHALOTHIN",
        "CEPHALOTHIN SODIUM",
        "CEPHAPIRIN",
        "CEPHAPIRIN SODIUM",
        "CEPHRADINE",
        "MOXALACTAM",
        "MOXALACTAM DISODIUM",
        "DORIPENEM",
        "ERTAPENEM",
        "ERTAPENEM SODIUM",
        "IMIPENEM",
        "MEROPENEM",
        "AZTREONAM",
        "LORACARBEF",
    )
)

#: Acetylcholinesterase inhibitors: the ones used for Alzheimer's dementia (donepezil, rivastigmine, galantamine,
#: tacrine) and the others (myasthenia gravis, reversal of neuromuscular block, glaucoma, pediculicide).
ACHE_INHIBITORS = frozenset(
    (
        "DONEPEZIL",
        "DONEPEZIL HYDROCHLORIDE",
        "RIVASTIGMINE",
        "RIVASTIGMINE TARTRATE",
        "GALANTAMINE",
        "GALANTAMINE HYDROBROMIDE",
        "TACRINE",
        "TACRINE HYDROCHLORIDE",
        "NEOSTIGMINE",
        "NEOSTIGMINE METHYLSULFATE",
        "PYRIDOSTIGMINE",
        "PYRIDOSTIGMINE BROMIDE",
        "EDROPHONIUM",
        "EDROPHONIUM CHLORIDE",
        "AMBENONIUM",
        "AMBENONIUM CHLORIDE",
        "ECHOTHIOPHATE",
        "ECHOTHIOPHATE IODIDE",
        "DEMECARIUM",
        "DEMECARIUM BROMIDE",
        "ISOFLUROPHATE",
        "MALATHION",
    )
)

#: The three queries of the drug-class check (issue "Text search a chemist can trust"), in its order.
DRUG_CLASSES: dict[str, DrugClass] = {
    "ache": DrugClass(
        "ache", "an inhibitor of acetylcholinesterase used for dementia", ACHE_INHIBITORS, "acetylcholinesterase"
    ),
    "nsaid": DrugClass("nsaid", "a nonsteroidal anti-inflammatory drug", NSAIDS, "NSAIDs"),
    "beta_lactam": DrugClass("beta_lactam", "beta-lactam antibiotic", BETA_LACTAMS, "beta-lactam antibiotics"),
}


def count_members(names: pd.Series | list[str], members: frozenset[str]) -> list[bool]:
    """Whether each hit is a member; a hit's ``name`` may join salt forms with ``'; '``."""
    return [any(part.strip().upper() in members for part in str(name).split(";")) for name in names]


def drug_check(k: int = 10, *, retriever=None, library=None) -> pd.DataFrame:
    """The top ``k`` approved drugs for each query of :data:`DRUG_CLASSES` and how many belong to its class.

    Returns:
        One row per query: ``key``, ``query``, ``members_in_top``, ``k``, ``top`` (the hit names in rank order,
        members marked with ``*``), ``best_score``.
    """
    from workbench.retrieval.search import search_molecules

    rows = []
    for drug_class in DRUG_CLASSES.values():
        hits = search_molecules(drug_class.query, library if library is not None else "drugs", k, retriever=retriever)
        member = count_members(hits["name"], drug_class.members)
        rows.append(
            {
                "key": drug_class.key,
                "query": drug_class.query,
                "members_in_top": int(sum(member)),
                "k": k,
                "top": [  # a hit's first name (its salt forms are merged into it)
                    f"{str(name).split(';')[0].strip()}{' *' if m else ''}"
                    for name, m in zip(hits["name"], member, strict=True)
                ],
                "best_score": float(hits["score"].max()) if len(hits) else float("nan"),
            }
        )
    return pd.DataFrame(rows)
