"""Tiny MoleculeNet-shaped tables written into a test's data folder (a helper module, not a test module)."""

from __future__ import annotations

SCAFFOLDS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccoc1", "c1ccsc1", "C1CCOC1", "c1ccc2ccccc2c1"]


def tiny_tables(folder):
    """A BBBP-like classification table and an ESOL-like regression table, 64 molecules each."""
    rows_c, rows_r = ["smiles,p_np"], ["smiles,logp"]
    for k, ring in enumerate(SCAFFOLDS):
        for n in range(8):
            smiles = ring + "C" * (n + 1) + ("N" if n % 2 else "O")
            rows_c.append(f"{smiles},{n % 2}")
            rows_r.append(f"{smiles},{-0.5 * n + 0.1 * k:.2f}")
    (folder / "BBBP.csv").write_text("\n".join(rows_c) + "\n")
    (folder / "delaney.csv").write_text("\n".join(rows_r) + "\n")
