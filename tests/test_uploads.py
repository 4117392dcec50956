"""Uploaded files become a table or one sentence: empty, binary, encodings, columns by content, quoting, limits."""

from __future__ import annotations

import tomllib
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from workbench.chem import uploads
from workbench.chem.uploads import (
    MAX_UPLOAD_BYTES,
    UploadError,
    UploadLimits,
    detect_smiles_column,
    detect_value_columns,
    read_upload,
    read_upload_table,
)

LIMITS = UploadLimits(max_rows=1_000, command="workbench predict FILE -o out.csv")
CSV = "name,smiles,pIC50\naspirin,CC(=O)Oc1ccccc1C(=O)O,5.1\nethanol,CCO,4.0\n"


def refused(data: bytes, name: str = "mine.csv", limits: UploadLimits = LIMITS) -> str:
    with pytest.raises(UploadError) as info:
        read_upload(data, name, limits)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message and message.endswith(".")
    return message


def test_empty_blank_and_header_only_files_are_one_sentence_each():
    assert refused(b"") == "mine.csv is empty (0 bytes)."
    assert refused(b"\n \n\n") == "mine.csv holds only blank lines."
    assert refused(b"smiles,pIC50\n") == "mine.csv has a header line but no rows."
    assert refused(b"", "mols.smi") == "mols.smi is empty (0 bytes)."


def test_binary_files_are_refused_as_not_text():
    assert "not a text file" in refused(bytes(range(256)) * 4)
    assert "Excel workbook" in refused(b"PK\x03\x04" + b"\x14\x00" * 50)
    assert "gzip" in refused(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    assert "not a molecule file" in refused(b"a,b\n1,2\n", "sheet.xlsm")


def test_utf16_with_a_byte_order_mark_is_read():
    upload = read_upload(CSV.encode("utf-16"), "excel.csv", LIMITS)
    assert upload.table["smiles"].tolist() == ["CC(=O)Oc1ccccc1C(=O)O", "CCO"]
    assert upload.smiles.column == "smiles" and not upload.notes


def test_utf16_without_a_mark_is_read_with_a_note():
    upload = read_upload(CSV.encode("utf-16-le"), "excel.csv", LIMITS)
    assert upload.table["name"].tolist() == ["aspirin", "ethanol"]
    assert upload.notes == ("excel.csv has no byte-order mark; it was read as UTF-16.",)


def test_utf8_with_a_byte_order_mark_keeps_the_first_column_name():
    upload = read_upload(CSV.encode("utf-8-sig"), "bom.csv", LIMITS)
    assert upload.columns == ("name", "smiles", "pIC50")  # not '\ufeffname'
    assert upload.table["name"].tolist() == ["aspirin", "ethanol"] and not upload.notes


def test_text_that_is_not_utf8_is_read_as_latin1_with_a_note():
    upload = read_upload("name,smiles\ncafé,CCO\n".encode("latin-1"), "old.csv", LIMITS)
    assert upload.table["name"].tolist() == ["café"]
    assert "not UTF-8" in upload.notes[0] and "Latin-1" in upload.notes[0]


def test_no_column_of_smiles_is_refused_naming_the_columns():
    message = refused(b"id,name\n1,aspirin\n2,caffeine\n")
    assert message.startswith("No column of mine.csv holds SMILES") and "(id, name)" in message


def test_the_smiles_column_is_found_by_content_not_position():
    data = b"id,canonical,pIC50\nA1,CCO,5\nA2,c1ccccc1,6\nA3,C1CC(,7\n"
    upload = read_upload(data, "ids.csv", LIMITS)
    assert upload.smiles.column == "canonical"
    assert upload.smiles.reason == "2 of 3 sampled cells are molecules"
    assert upload.table["smiles"].tolist() == ["CCO", "c1ccccc1", "C1CC("]  # every row kept, the bad one too
    assert upload.table["id"].tolist() == ["A1", "A2", "A3"]
    assert [g.column for g in upload.values] == ["pIC50"]


def test_a_column_named_smiles_wins_when_several_hold_molecules():
    frame = pd.DataFrame({"parent": ["CCO", "CCN"], "SMILES": ["CCCl", "CCBr"]})
    assert detect_smiles_column(frame).column == "SMILES"
    frame = pd.DataFrame({"note": ["CCO", "a dog", "a cat"], "mol": ["CCO", "CCN", "C1CC("]})
    assert detect_smiles_column(frame).column == "mol"  # 2 of 3 beats 1 of 3
    assert detect_smiles_column(pd.DataFrame({"x": ["1", "2"], "y": ["dog", "cat"]})) is None


def test_a_named_smiles_column_is_used_and_a_missing_one_refused():
    data = b"parent,analogue\nCCO,CCN\nCCC,CCCl\n"
    assert read_upload(data, "two.csv", LIMITS, "analogue").table["smiles"].tolist() == ["CCN", "CCCl"]
    with pytest.raises(UploadError) as info:
        read_upload(data, "two.csv", LIMITS, "smile")
    assert str(info.value) == "two.csv has no column 'smile'; its columns are: parent, analogue."


def test_value_columns_are_those_holding_numbers():
    frame = pd.DataFrame(
        {
            "smiles": ["CCO", "CCN", "CCC"],
            "potency": ["high", "low", "high"],  # not numbers
            "pKi": ["7.1", "NA", "6.5"],  # a missing cell is not held against it
            "Ki (nM)": ["12", "1e3", "<5"],  # most are numbers
        }
    )
    found = detect_value_columns(frame)
    assert [g.column for g in found] == ["pKi", "Ki (nM)"]
    assert found[0].reason == "2 of 2 sampled cells are numbers"
    assert detect_value_columns(frame, exclude=("pKi",))[0].column == "Ki (nM)"


@pytest.mark.parametrize(
    "data",
    [
        b'name,smiles\n"aspirin,CCO\nb,CCN\n',  # a quote never closed
        b'name,smiles\n"aspirin,CCO\nb,CCN\nc",CCC\nd,CCCl\n',  # closed three lines later: lines merged
    ],
)
def test_broken_quoting_that_would_lose_rows_is_refused(data):
    assert "quote" in refused(data)


def test_lines_with_more_fields_than_the_header_are_refused():
    assert "more fields than the header" in refused(b"name,smiles\na,CCO,1\nb,CCN,2\n")


def test_a_typed_table_keeps_numbers_and_refuses_merged_lines():
    upload = read_upload_table(b"smiles,pIC50\nCCO,5.5\nCCN,6\n", "p.csv", LIMITS)
    assert upload.table["pIC50"].dtype.kind == "f" and upload.columns == ("smiles", "pIC50")
    with pytest.raises(UploadError, match="quote"):
        read_upload_table(b'smiles,note\nCCO,"a\nCCN,b\nCCC"\nCCCl,d\n', "p.csv", LIMITS)
    with pytest.raises(UploadError, match="is empty"):
        read_upload_table(b"", "p.csv", LIMITS)


def parse_nothing(*args, **kwargs):
    raise AssertionError("the file was parsed")


def test_too_many_rows_are_refused_before_any_molecule_is_parsed(monkeypatch):
    monkeypatch.setattr(uploads, "read_molecules", parse_nothing)
    small = UploadLimits(max_rows=3, command="workbench cliffs FILE -o pairs.csv")
    message = refused(b"smiles\nCCO\nCCN\nCCC\nCCCl\n", "four.csv", small)
    assert message.startswith("four.csv has 4 rows, more than the 3 this page takes at once")
    assert "`workbench cliffs four.csv -o pairs.csv`" in message


@pytest.mark.slow
def test_a_331000_row_upload_is_refused_in_small_memory(monkeypatch):
    monkeypatch.setattr(uploads, "read_molecules", parse_nothing)
    big = b"id,smiles\n" + b"".join(b"%d,CCOc1ccccc1C(=O)O\n" % i for i in range(331_000))
    tracemalloc.start()
    try:
        message = refused(big, "big.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == (
        "big.csv has 331,000 rows, more than the 1,000 this page takes at once; split it, or run "
        "`workbench predict big.csv -o out.csv` on the command line for all of them."
    )
    assert peak < 3 * len(big)  # counted on the raw lines, not parsed into a table


def test_rows_are_counted_per_format():
    small = UploadLimits(max_rows=2, command="workbench cliffs FILE -o pairs.csv")
    assert "3 rows" in refused(b"smiles\nCCO\n\nCCN\nCCC\n", "a.csv", small)  # blank lines are not rows
    assert read_upload(b"smiles\nCCO\nCCN\n", "a.smi", small).table["smiles"].tolist() == ["CCO", "CCN"]
    assert "3 rows" in refused(b"# comment\nCCO a\nCCN b\nCCC c\n", "a.smi", small)
    sdf = b"".join(b"m%d\n  RDKit\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n"
                   b"    0.0    0.0    0.0 C   0  0\nM  END\n$$$$\n" % i for i in range(3))  # fmt: skip
    assert "3 rows" in refused(sdf, "a.sdf", small)


def test_too_many_bytes_are_refused_with_the_command_line():
    limits = UploadLimits(max_rows=10, command="workbench predict FILE -o out.csv", max_bytes=1024 * 1024)
    message = refused(b"smiles\n" + b"C" * (2 * 1024 * 1024), "huge.csv", limits)
    assert message == (
        "huge.csv is 2 MB, more than the 1 MB this page takes; run `workbench predict huge.csv -o out.csv` "
        "on the command line instead."
    )


def test_the_app_accepts_uploads_of_the_size_the_library_checks():
    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


def test_smi_and_sdf_uploads_are_read_by_the_molecule_file_reader():
    upload = read_upload(b"CCO ethanol\nc1ccccc1 benzene\n", "mols.smi", LIMITS)
    assert upload.table["smiles"].tolist() == ["CCO", "c1ccccc1"] and upload.columns == ()
    assert upload.smiles is None
