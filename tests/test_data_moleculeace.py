import subprocess
import sys

import numpy as np
import pytest

from workbench.data import list_moleculeace, load_moleculeace


def test_thirty_targets_are_listed():
    targets = list_moleculeace()
    assert len(targets) == 30
    assert {"CHEMBL218_EC50", "CHEMBL238_Ki", "CHEMBL239_EC50", "CHEMBL236_Ki"} <= set(targets)


def test_target_has_moleculeace_columns_and_potency_relation():
    ds = load_moleculeace("CHEMBL2835_Ki")
    assert {"smiles", "exp_mean [nM]", "y", "cliff_mol", "split"} <= set(ds.frame.columns)
    assert set(ds.frame["split"]) == {"train", "test"}
    # y is -log10 of the potency in nM
    assert np.allclose(ds.frame["y"], -np.log10(ds.frame["exp_mean [nM]"]), atol=1e-6)


@pytest.mark.slow
def test_reading_does_not_import_the_package():
    code = (
        "import sys; from workbench.data import load_moleculeace; load_moleculeace('CHEMBL2835_Ki'); "
        "print('MoleculeACE' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
