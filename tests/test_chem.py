import numpy as np
import pytest

from workbench import chem


def test_parse_returns_one_row_per_input_with_clear_errors():
    table = chem.parse(["CCO", "C1CC(", ""])
    assert len(table) == 3
    assert table.loc[0, "error"] == ""
    assert table.loc[0, "smiles"] == "CCO"
    assert table.loc[0, "inchikey"] == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"
    assert "unparsable SMILES" in table.loc[1, "error"]
    assert "empty input" in table.loc[2, "error"]
    assert table["warnings"].tolist() == ["", "", ""]
    assert table.attrs["mols"][0] is not None and table.attrs["mols"][1] is None


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("C[Xx]", "unsupported element: 'Xx'"),
        ("CC*", "dummy atom"),
        ("C(C)(C)(C)(C)C", "impossible valence"),
        ("c1ccnc1", "cannot be kekulized"),
        ("   ", "empty input"),
        (None, "empty input"),
        (float("nan"), "empty input"),
        ("CCO ethanol", "space after 'CCO'"),
        ("C1CC\nC1", "line break"),
        ("CCÖ", "non-ASCII character 'Ö'"),
        ("[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1", "organometallic compound"),
    ],
)
def test_bad_inputs_get_messages_a_chemist_understands(smiles, expected):
    result = chem.parse_one(smiles)
    assert not result.ok
    assert expected in result.error


def test_heavy_atom_limit_is_configurable():
    long_chain = "C" * 40
    assert chem.parse_one(long_chain).ok
    too_big = chem.parse_one(long_chain, max_heavy_atoms=30)
    assert not too_big.ok and "40 heavy atoms" in too_big.error and "limit is 30" in too_big.error
    assert "limit is 150" in chem.parse_one("C" * 151).error


def test_standardization_keeps_largest_fragment_and_neutralizes():
    salt = chem.parse_one("CC(=O)[O-].[Na+]")
    assert salt.smiles == "CC(=O)O"
    assert salt.warnings == ("removed fragment [Na+] (counter-ion)", "neutralized charges: [O-] → [OH]")
    kept = chem.parse_one("CC(=O)[O-].[Na+]", largest_fragment=False, neutralize=False)
    assert "." in kept.smiles and "-" in kept.smiles and kept.warnings == ()


def test_canonical_smiles_is_independent_of_input_order():
    assert chem.parse_one("OCC").smiles == chem.parse_one("C(O)C").smiles == "CCO"


def test_batch_never_raises_on_garbage():
    rows = chem.parse([object(), 123, "CCO", "(((("])
    assert len(rows) == 4
    assert rows.loc[2, "error"] == ""
    assert all(rows.loc[i, "error"] for i in (0, 1, 3))


def test_descriptors_of_aspirin():
    values = chem.describe(chem.parse_one("CC(=O)Oc1ccccc1C(=O)O").mol)
    assert set(values) == set(chem.DESCRIPTOR_COLUMNS)
    assert values["MW"] == pytest.approx(180.16, abs=0.01)
    assert values["HBD"] == 1 and values["HBA"] == 3
    assert values["rings"] == 1 and values["aromatic_rings"] == 1
    assert values["heavy_atoms"] == 13 and values["formal_charge"] == 0
    assert values["lipinski_violations"] == 0
    from rdkit.Chem import QED

    assert values["QED"] == pytest.approx(QED.qed(chem.parse_one("CC(=O)Oc1ccccc1C(=O)O").mol), abs=0.005)


def test_lipinski_violations_are_counted():
    # a long greasy chain: MW > 500 and cLogP > 5
    values = chem.describe(chem.parse_one("C" * 40).mol)
    assert values["lipinski_violations"] == 2


def test_descriptor_table_aligns_with_input_and_reports_errors():
    table = chem.descriptor_table(["CCO", "xyz", "c1ccccc1"])
    assert list(table["input"]) == ["CCO", "xyz", "c1ccccc1"]
    assert table.loc[1, "error"] and np.isnan(table.loc[1, "MW"])
    assert table.loc[2, "aromatic_rings"] == 1
    assert list(table.columns[-2:]) == ["error", "warnings"] and table["warnings"].tolist() == ["", "", ""]


def test_depiction_is_inline_svg_with_highlights_and_weights():
    svg = chem.depict_svg("CCO", highlight_atoms=[0])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    heat = chem.depict_svg("CCO", atom_weights=[1.0, 0.0, -1.0])
    assert heat.startswith("<svg") and heat != svg
    with pytest.raises(ValueError, match="3 atoms"):
        chem.depict_svg("CCO", atom_weights=[1.0])
    with pytest.raises(ValueError, match="unparsable"):
        chem.depict_svg("((")


def test_the_cli_writes_as_integers_exactly_the_descriptors_describe_returns_as_ints():
    from rdkit import Chem

    from workbench.chem.molecule import DESCRIPTOR_COLUMNS, describe
    from workbench.cli.parse_cmd import FRACTIONAL_DESCRIPTORS

    values = describe(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert set(FRACTIONAL_DESCRIPTORS) < set(DESCRIPTOR_COLUMNS)
    assert {c for c in DESCRIPTOR_COLUMNS if not isinstance(values[c], int)} == set(FRACTIONAL_DESCRIPTORS)
