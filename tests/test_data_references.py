from workbench.data import load_approved_drugs


def test_approved_drugs_have_names_and_smiles():
    drugs = load_approved_drugs()
    assert len(drugs) > 2000
    assert {"smiles", "name", "chembl_id"} <= set(drugs.frame.columns)
    assert "ASPIRIN" in set(drugs.frame["name"].str.upper())
    assert (drugs.frame["molecule_type"] == "Small molecule").all()
