from workbench.data import list_datasets


def test_catalog_lists_found_and_missing_sets_without_downloading(data_dirs):
    data, cache = data_dirs
    (data / "BBBP.csv").write_text("smiles,p_np\nCCO,1\nCCN,0\n")
    table = list_datasets()
    bbbp = table[table["name"] == "bbbp"].iloc[0]
    assert bbbp["molecules"] == 2 and str(data / "BBBP.csv") == bbbp["location"]
    hiv = table[table["name"] == "hiv"].iloc[0]
    assert "not found" in hiv["location"] and "HIV.csv" in hiv["location"]
    assert (table["collection"] == "MoleculeACE").sum() == 30
    assert not any(cache.rglob("*.csv"))
