"""Potency units, reading a potency CSV and choosing its SMILES and potency columns (app and CLI share the rule)."""

import numpy as np
import pandas as pd
import pytest

from workbench.cliffs import potency
from workbench.cliffs.columns import (
    ColumnError,
    cliff_input,
    column_menu,
    detect_columns,
    numeric_columns,
    read_potency_csv,
    smiles_columns,
)
from workbench.data import load_moleculeace
from workbench.data.moleculeace import moleculeace_dir

A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"


# --- potency units ---------------------------------------------------------------------------------------------


def test_potency_nm_from_both_units():
    assert potency.potency_nm([1.0, 250.0], "nM").tolist() == [1.0, 250.0]
    assert potency.potency_nm([9.0, 6.0, 7.5], "pActivity") == pytest.approx([1.0, 1000.0, 10**1.5])
    with pytest.raises(ValueError, match="unknown potency unit 'uM'"):
        potency.potency_nm([1.0], "uM")


def test_pactivity_from_both_units():
    assert potency.pactivity([1.0, 1000.0]) == pytest.approx([9.0, 6.0])
    assert potency.to_pactivity([1.0, 1000.0], "nM") == pytest.approx([9.0, 6.0])
    assert potency.to_pactivity([7.25, 5.0], "pActivity").tolist() == [7.25, 5.0]
    assert np.isnan(potency.to_pactivity([np.nan], "nM")[0])
    with pytest.raises(ValueError, match="unknown potency unit"):
        potency.to_pactivity([1.0], "pKi")


def test_moleculeace_y_is_minus_log10_nm_from_both_units():
    frame = load_moleculeace("CHEMBL2835_Ki").frame
    y = potency.moleculeace_y(frame["exp_mean [nM]"], "nM")
    assert y == pytest.approx(frame["y"].to_numpy(), abs=1e-12)  # MoleculeACE's own y column
    assert potency.moleculeace_y([8.0, 6.5], "pActivity") == pytest.approx([-1.0, -2.5])
    assert np.isinf(potency.moleculeace_y([0.0], "nM")[0])  # left out by the caller, no warning


# --- reading a CSV ---------------------------------------------------------------------------------------------


def test_read_potency_csv_from_bytes_and_path(tmp_path):
    data = f"id,smiles,pIC50\n1,{A},9.0\n2,{B},7\n".encode()
    from_bytes = read_potency_csv(data)
    assert list(from_bytes.columns) == ["id", "smiles", "pIC50"] and from_bytes["pIC50"].tolist() == [9.0, 7.0]
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    pd.testing.assert_frame_equal(read_potency_csv(path), from_bytes)


@pytest.mark.parametrize(("data", "message"), [(b"", "not a readable CSV"), (b"smiles,Ki\n", "has no rows")])
def test_read_potency_csv_rejects_empty_files(data, message):
    with pytest.raises(ColumnError, match=message) as err:
        read_potency_csv(data)
    assert err.value.field is None


# --- choosing the columns --------------------------------------------------------------------------------------


def test_moleculeace_file_picks_smiles_and_exp_mean():
    table = read_potency_csv(moleculeace_dir() / "CHEMBL2835_Ki.csv")
    assert smiles_columns(table) == ["smiles"]
    choice = detect_columns(table)
    assert (choice.smiles, choice.potency) == ("smiles", "exp_mean [nM]")
    assert "MoleculeACE" in choice.note


def test_id_column_before_the_smiles_column():
    table = pd.DataFrame({"id": [1, 2, 3], "Molecule": [A, B, "CCO"], "IC50 (nM)": [5.0, 60.0, 7.0]})
    assert smiles_columns(table) == ["Molecule"]
    assert numeric_columns(table) == ["id", "IC50 (nM)"]
    choice = detect_columns(table)
    assert (choice.smiles, choice.potency) == ("Molecule", "IC50 (nM)")
    assert "not id" in choice.note


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Unnamed: 0", [0, 1, 2]),
        ("row", [12, 40, 3]),
        ("chembl_id", [12, 40, 3]),
        ("mol.idx", [12, 40, 3]),
        ("record index", [12, 40, 3]),
        ("n", [0, 1, 2]),  # a running 0..n-1 count
        ("k", [1, 2, 3]),  # a running 1..n count
    ],
)
def test_identifier_columns_are_not_potencies(name, values):
    table = pd.DataFrame({name: values, "smiles": [A, B, "CCO"], "Ki": [3.0, 4.0, 5.0]})
    assert detect_columns(table).potency == "Ki"


def test_integer_potencies_are_not_identifiers():
    table = pd.DataFrame({"smiles": [A, B, "CCO"], "Ki": [3, 40, 5]})
    assert detect_columns(table).potency == "Ki"
    with pytest.raises(ColumnError, match=r"could be the potency \(k, Ki\)"):
        detect_columns(table.assign(k=[2, 3, 4])[["smiles", "k", "Ki"]])  # 2..4 is no running count


def test_flags_and_moleculeace_derived_columns_are_not_potencies():
    table = pd.DataFrame({"smiles": [A, B], "active": [1, 0], "pKi": [7.0, 8.0]})
    assert detect_columns(table).potency == "pKi"
    derived = pd.DataFrame({"smiles": [A, B], "y": [0.5, -1.0], "cliff_mol": [0, 1], "pKd": [7.0, 8.0]})
    assert detect_columns(derived).potency == "pKd"
    only_y = pd.DataFrame({"smiles": [A, B], "y": [0.5, -1.0]})
    assert detect_columns(only_y).potency == "y"  # as before: the only number there is


def test_no_numeric_column_is_a_clear_error_never_the_smiles():
    table = pd.DataFrame({"smiles": [A, B], "name": ["alcohol", "amine"]})
    with pytest.raises(ColumnError, match="no numeric column to use as the potency; columns: smiles, name") as err:
        detect_columns(table)
    assert err.value.field == "potency"
    with pytest.raises(ColumnError, match="'smiles' is the SMILES column, not a potency"):
        detect_columns(table, potency="smiles")
    with pytest.raises(ColumnError, match="column 'name' holds no numbers"):
        detect_columns(table, potency="name")


def test_ambiguous_columns_are_errors():
    with pytest.raises(ColumnError, match=r"several numeric columns could be the potency \(pKi, pIC50\)"):
        detect_columns(pd.DataFrame({"smiles": [A], "pKi": [7.0], "pIC50": [6.0]}))
    with pytest.raises(ColumnError, match=r"several columns hold SMILES \(a, b\)") as err:
        detect_columns(pd.DataFrame({"a": [A], "b": [B], "Ki": [1.0]}))
    assert err.value.field == "smiles"
    with pytest.raises(ColumnError, match="no column holds SMILES"):
        detect_columns(pd.DataFrame({"name": ["aspirin"], "Ki": [1.0]}))
    # several SMILES columns, one of them named smiles (any case): that one
    assert detect_columns(pd.DataFrame({"parent": [A], "SMILES": [B], "Ki": [1.0]})).smiles == "SMILES"


def test_smiles_by_content_needs_most_cells_to_parse():
    table = pd.DataFrame({"code": ["C", "X1", "Y2", "Z3"], "smiles": [A, B, "CCO", "bad("], "Ki": [1.0, 2, 3, 4]})
    assert smiles_columns(table) == ["smiles"]  # 3 of 4 parse; 1 of 4 "codes" happens to parse


def test_named_columns_win_and_must_exist():
    table = pd.DataFrame({"a": [A], "b": [B], "x": [1.0], "z": [2.0]})
    choice = detect_columns(table, smiles="b", potency="z")
    assert (choice.smiles, choice.potency) == ("b", "z") and "as named" in choice.note
    with pytest.raises(ColumnError, match="no column 'c'"):
        detect_columns(table, smiles="c")
    with pytest.raises(ColumnError, match="no column 'w'") as err:
        detect_columns(table, smiles="a", potency="w")
    assert err.value.field == "potency"


def test_column_menu_defaults_and_messages():
    table = pd.DataFrame({"id": [7, 9], "smiles": [A, B], "pKi": [7.0, 8.0], "pIC50": [6.0, 5.0]})
    menu = column_menu(table)
    assert menu.smiles_options[menu.smiles_index] == "smiles"
    assert menu.potency_options == ["id", "pKi", "pIC50"] and menu.potency_index == 1  # pKi, never the id
    assert menu.message == "Several numeric columns could be the potency (pKi, pIC50): choose the columns above."
    clear = column_menu(table.drop(columns="pIC50"))
    assert clear.potency_options[clear.potency_index] == "pKi" and clear.message == ""
    chosen = column_menu(table, "id")  # the user's SMILES choice leaves it out of the potency options
    assert chosen.potency_options == ["pKi", "pIC50"]
    with pytest.raises(ColumnError, match="no numeric column"):
        column_menu(pd.DataFrame({"smiles": [A], "name": ["x"]}))


def test_cliff_input_coerces_potency_and_keeps_split():
    table = pd.DataFrame({"s": [A, B], "v": ["1.5", "n/a"], "split": ["train", "test"]}, index=[5, 6])
    frame = cliff_input(table, "s", "v")
    assert list(frame.columns) == ["smiles", "potency", "split"] and list(frame.index) == [0, 1]
    assert frame["potency"].iloc[0] == 1.5 and np.isnan(frame["potency"].iloc[1])
    assert "split" not in cliff_input(table.drop(columns="split"), "s", "v").columns
