import numpy as np
import pytest
from rdkit import Chem

from workbench.conformers import (
    ConformerCache,
    boltzmann_weights,
    ensemble_from_bytes,
    ensemble_to_bytes,
    gasteiger_charges,
    generate_conformers,
    generate_conformers_batch,
    overlay_pair,
    read_sdf_ensembles,
)

FLEXIBLE = "CCCCOC(=O)c1ccccc1"  # butyl benzoate: several distinct conformers, 13 heavy atoms


@pytest.fixture(scope="module")
def ensemble():
    result = generate_conformers(FLEXIBLE, 6, seed=7)
    assert result.ok, result.error
    return result


def test_energies_are_relative_sorted_and_weights_sum_to_one(ensemble):
    assert ensemble.n_conformers > 1
    assert ensemble.energies[0] == 0.0 and ensemble.energies.min() == 0.0
    assert np.all(np.diff(ensemble.energies) >= 0)
    assert ensemble.weights.sum() == pytest.approx(1.0)
    assert np.all(np.diff(ensemble.weights) <= 1e-12)  # lower energy, higher weight
    assert ensemble.force_field == "MMFF94s" and ensemble.optimized and ensemble.converged.all()
    assert ensemble.mol.GetNumAtoms() > ensemble.mol.GetNumHeavyAtoms()  # hydrogens added


def test_boltzmann_weights_at_room_temperature():
    w = boltzmann_weights([0.0, 1.0])
    assert w[1] / w[0] == pytest.approx(np.exp(-1.0 / (0.0019872043 * 298.15)))
    assert boltzmann_weights([np.nan, np.nan]).tolist() == [0.5, 0.5]


def test_same_seed_same_ensemble():
    a = generate_conformers(FLEXIBLE, 4, seed=3)
    b = generate_conformers(FLEXIBLE, 4, seed=3)
    assert a.n_conformers == b.n_conformers
    np.testing.assert_allclose(a.absolute_energies, b.absolute_energies)
    for i in range(a.n_conformers):
        np.testing.assert_allclose(a.mol.GetConformer(i).GetPositions(), b.mol.GetConformer(i).GetPositions())


def test_rmsd_matrix_clusters_and_table(ensemble):
    rmsd = ensemble.rmsd_matrix()
    n = ensemble.n_conformers
    assert rmsd.shape == (n, n) and np.allclose(rmsd, rmsd.T) and np.allclose(np.diag(rmsd), 0)
    assert rmsd[np.triu_indices(n, 1)].min() >= 0.5  # pruned at 0.5 Å after optimization
    labels = ensemble.clusters(threshold=1.0)
    assert labels[0] == 0 and len(labels) == n
    assert ensemble.clusters(threshold=100.0).tolist() == [0] * n
    table = ensemble.to_frame()
    assert list(table.columns) == [
        "conformer",
        "energy_kcal_mol",
        "boltzmann_weight",
        "rmsd_to_lowest",
        "cluster",
        "converged",
    ]
    assert table.loc[0, "rmsd_to_lowest"] == 0.0


def test_sdf_round_trip_keeps_energies(ensemble):
    sdf = ensemble.to_sdf(name="butyl benzoate")
    assert sdf.count("$$$$") == ensemble.n_conformers and "boltzmann_weight" in sdf
    (back,) = read_sdf_ensembles(sdf)
    assert back.n_conformers == ensemble.n_conformers and back.smiles == ensemble.smiles
    np.testing.assert_allclose(back.absolute_energies, ensemble.absolute_energies, atol=1e-5)
    np.testing.assert_allclose(back.energies, ensemble.energies, atol=1e-5)
    assert back.force_field == "MMFF94s" and back.input == "butyl benzoate"


def test_xyz_and_pdb_exports(ensemble):
    xyz = ensemble.to_xyz().splitlines()
    atoms = ensemble.mol.GetNumAtoms()
    assert len(xyz) == ensemble.n_conformers * (atoms + 2) and xyz[0] == str(atoms)
    assert "energy_kcal_mol=0.0000" in xyz[1]
    pdb = ensemble.to_pdb()
    assert pdb.count("MODEL") == ensemble.n_conformers and pdb.count("HETATM") == ensemble.n_conformers * atoms


def test_compact_bytes_round_trip(ensemble):
    data = ensemble_to_bytes(ensemble)
    assert len(data) < 400 * ensemble.n_conformers  # float32 coordinates, compressed
    back = ensemble_from_bytes(data)
    assert Chem.MolToSmiles(Chem.RemoveHs(back.mol)) == ensemble.smiles
    np.testing.assert_allclose(back.absolute_energies, ensemble.absolute_energies)
    np.testing.assert_allclose(
        back.mol.GetConformer(1).GetPositions(), ensemble.mol.GetConformer(1).GetPositions(), atol=1e-5
    )
    with pytest.raises(ValueError, match="not a workbench conformer ensemble"):
        ensemble_from_bytes(b"junk")


def test_metal_complex_is_a_clear_error():
    result = generate_conformers("N[Pt](N)(Cl)Cl")  # cisplatin
    assert not result.ok and "metal complex" in result.error and "Pt" in result.error


def test_oversize_molecule_is_a_clear_error():
    result = generate_conformers("C" * 120)
    assert not result.ok and "too large for 3D conformers: 120 heavy atoms" in result.error


def test_bad_input_and_timeout_are_errors_not_exceptions():
    assert "unparsable SMILES" in generate_conformers("C1CC(").error
    assert "empty input" in generate_conformers(None).error
    slow = generate_conformers(FLEXIBLE, 3, max_seconds=1e-4)
    assert not slow.ok and slow.error.startswith("timed out")
    with pytest.raises(ValueError, match="unknown force field"):
        generate_conformers("CCO", optimize="AMBER")


def test_uff_fallback_and_single_point_energies():
    boronic = generate_conformers("OB(O)c1ccccc1", 3)  # MMFF has no boron parameters
    assert boronic.ok and boronic.force_field == "UFF"
    assert any("used UFF instead" in note for note in boronic.notes)
    raw = generate_conformers(FLEXIBLE, 3, optimize=None, prune_rms=0)
    assert raw.ok and not raw.optimized and not raw.converged.any() and raw.energies.min() == 0.0


def test_gasteiger_charges_one_per_atom():
    mol = Chem.AddHs(Chem.MolFromSmiles("CC(=O)O"))
    charges = gasteiger_charges(mol)
    assert charges.shape == (mol.GetNumAtoms(),) and charges[2] < 0 < charges[1]


def test_batch_has_one_row_per_input_and_reuses_the_cache(tmp_path):
    inputs = ["CCO", "not a smiles", "N[Pt](N)(Cl)Cl", "c1ccccc1O", None]
    cache = tmp_path / "conformers.sqlite"
    first = generate_conformers_batch(inputs, n_jobs=2, cache=cache, n=3)
    assert len(first) == 5 and list(first["input"]) == ["CCO", "not a smiles", "N[Pt](N)(Cl)Cl", "c1ccccc1O", ""]
    assert [bool(e) for e in first["error"]] == [False, True, True, False, True]
    assert not first["cached"].any() and first.loc[0, "n_conformers"] >= 1
    assert len(ConformerCache(cache)) == 2  # the two ensembles; inputs refused at parsing (the metal) are not stored
    second = generate_conformers_batch(inputs, cache=cache, n=3)
    assert second["cached"].tolist() == [True, False, False, True, False]
    np.testing.assert_allclose(second.loc[3, "min_energy_kcal_mol"], first.loc[3, "min_energy_kcal_mol"])
    other_settings = generate_conformers_batch(["CCO"], cache=cache, n=2)
    assert not other_settings.loc[0, "cached"]


def test_pair_overlay_reports_differing_atoms():
    pair = overlay_pair("CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1O", n=2)  # aspirin vs salicylic acid
    assert pair.ok, pair.error
    assert pair.differing_a == [0, 1, 2] and pair.differing_b == []  # the acetyl group
    assert len(pair.atom_map) == 10 and pair.rmsd < 0.1
    far = overlay_pair("CCO", "c1ccncc1", n=1)
    assert not far.ok and "share fewer than 3 atoms" in far.error
    assert "second molecule" in overlay_pair("CCO", "C1CC(").error
