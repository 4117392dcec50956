"""Over-long lines: refused by the byte stream under every molecule-file reader, naming the line."""

import gzip
import io

import pytest

from workbench.chem.files import MoleculeFileError, iter_molecule_chunks, read_molecules
from workbench.chem.line_limit import LineLimitedReader, LineTooLongError, limit_lines


class Trickle(io.RawIOBase):
    """Gives ``data`` back a few bytes per read, so lines straddle reads."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        part = self.data[self.at : self.at + min(n, self.step)]
        self.at += len(part)
        return part


@pytest.mark.parametrize("step", [1, 3, 7, 64, 10_000])
def test_bytes_pass_through_unchanged_whatever_the_read_sizes(step):
    data = b"".join(b"x" * (k % 10) + b"\n" for k in range(500)) + b"no newline"
    assert limit_lines(Trickle(data, step), limit=10).read() == data


@pytest.mark.parametrize("step", [1, 5, 64])
def test_a_line_one_byte_over_the_limit_is_refused_with_its_number_even_across_reads(step):
    data = b"ok\n" * 3 + b"y" * 11 + b"\nnever reached\n"
    with pytest.raises(LineTooLongError, match="line 4 is longer than 10 bytes"):
        LineLimitedReader(Trickle(data, step), limit=10).read()
    assert limit_lines(Trickle(b"ok\n" + b"y" * 10 + b"\n", step), limit=10).read().endswith(b"y\n")


def _long(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    return path


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.csv", b"id,smiles\n1,CCO\n2," + b"C" * 200_000 + b"\n"),
        ("a.csv.gz", b"id,smiles\n1,CCO\n2," + b"C" * 200_000 + b"\n"),
        ("a.smi", b"CCO one\n" + b"C" * 200_000 + b" two\n"),
        ("a.sdf", b"\n  RDKit\n\n" + b"x" * 200_000 + b"\n"),
    ],
)
def test_every_reader_refuses_a_huge_line_in_one_sentence_naming_file_and_line(tmp_path, name, content):
    path = _long(tmp_path, name, content)
    with pytest.raises(MoleculeFileError, match=rf"^{name}, line \d+ is longer than 100,000 bytes"):
        list(iter_molecule_chunks(path, chunk_size=10))
    with pytest.raises(MoleculeFileError, match="is longer than 100,000 bytes"):
        read_molecules(path.read_bytes(), filename=name)


def test_a_gzipped_csv_still_reads_and_a_header_only_one_gives_its_columns(tmp_path):
    rows = list(iter_molecule_chunks(_long(tmp_path, "b.csv.gz", b"id,smiles\n1,CCO\n"), chunk_size=10))
    assert rows[0]["smiles"].tolist() == ["CCO"]
    empty = list(iter_molecule_chunks(_long(tmp_path, "c.csv.gz", b"id,smiles\n"), chunk_size=10))
    assert list(empty[0].columns) == ["id", "smiles"] and len(empty[0]) == 0
