"""3D conformers: an ETKDG ensemble with force-field energies in an interactive 3D view."""

import streamlit as st

from workbench.app import EXAMPLES, current_molecule
from workbench.app.conformers import conformer_settings, show_viewer
from workbench.app.molecule_input import DEFAULT_EXAMPLE
from workbench.app.render import plain
from workbench.chem import parse_one
from workbench.chem.files import MoleculeFileError, read_molecules
from workbench.conformers import ConformerEnsemble, PairOverlay, generate_conformers, overlay_pair
from workbench.conformers.view3d import COLORINGS, STYLES, SURFACES, energy_chart, ensemble_view, pair_view

SOURCES = ("Home molecule", "SMILES", "Upload SDF/MOL")
MODES = {"one conformer": "single", "overlay all (aligned)": "overlay", "animate": "animate"}


@st.cache_data(show_spinner=False, max_entries=64)
def _ensemble(smiles: str, n: int, optimize: str | None, prune_rms: float, seed: int) -> ConformerEnsemble:
    return generate_conformers(smiles, n, optimize=optimize, prune_rms=prune_rms, seed=seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _overlay(first: str, second: str, seed: int) -> PairOverlay:
    return overlay_pair(first, second, seed=seed)


@st.cache_data(show_spinner=False, max_entries=16)
def _read_upload(data: bytes, name: str):
    return read_molecules(data, filename=name)


def _chosen_smiles() -> str | None:
    source = st.radio("Molecule", SOURCES, horizontal=True, key="conf_source")
    if source == "Home molecule":
        home = current_molecule()
        if home:
            st.caption(f"The molecule selected on Home: `{home['smiles']}`")
            return home["smiles"]
        st.caption(f"No molecule selected on Home yet; showing {DEFAULT_EXAMPLE.lower()}.")
        return EXAMPLES[DEFAULT_EXAMPLE]
    if source == "SMILES":
        home = current_molecule()
        start = home["smiles"] if home else EXAMPLES[DEFAULT_EXAMPLE]
        return st.text_input("SMILES", value=start, key="conf_smiles").strip() or None
    upload = st.file_uploader("SDF or MOL file", type=["sdf", "sd", "mol"], key="conf_upload")
    if upload is None:
        return None
    try:
        table = _read_upload(upload.getvalue(), upload.name)
    except MoleculeFileError as exc:
        st.error(plain(exc))
        return None
    table = table[table["smiles"] != ""]
    if table.empty:
        st.error("No readable molecule in this file.")
        return None
    pairs = zip(table["name"], table["smiles"], strict=True)
    labels = [f"{i + 1}: {name or smiles}" for i, (name, smiles) in enumerate(pairs)]
    pick = st.selectbox("Record", range(len(labels)), format_func=labels.__getitem__, key="conf_record")
    return table["smiles"].iloc[pick]


st.title("3D conformers")
st.caption(
    "An ETKDGv3 conformer ensemble, optimized with a force field, sorted by energy and aligned on the lowest. "
    "Energies are relative to the lowest conformer; weights are Boltzmann populations at 298.15 K."
)
smiles = _chosen_smiles()
settings = conformer_settings()
if not smiles:
    st.info("Choose a molecule.")
    st.stop()
parsed = parse_one(smiles)
if not parsed.ok:
    st.error(f"Cannot use this input — {plain(parsed.error)}")
    st.stop()
with st.spinner(f"Generating {settings['n']} conformers…", show_time=True):
    ensemble = _ensemble(parsed.smiles, **settings)
if not ensemble.ok:
    st.error(f"No conformers for {plain(parsed.smiles)} — {plain(ensemble.error)}")
    st.stop()
for note in ensemble.notes:
    st.info(plain(note))

table = ensemble.to_frame()
view_col, data_col = st.columns([3, 2])
with view_col:
    a, b, c = st.columns(3)
    mode = MODES[a.radio("Show", list(MODES), key="conf_mode")]
    style = b.radio("Style", STYLES, key="conf_style")
    color = c.radio("Colour", COLORINGS, key="conf_color")
    a, b, c = st.columns(3)
    animating = mode == "animate"  # the animation draws neither a surface nor labels: their controls are off
    surface = a.selectbox("Surface", list(SURFACES), key="conf_surface", disabled=animating)
    labels = b.toggle("Atom labels", key="conf_labels", disabled=animating)
    conformer = c.selectbox(
        "Conformer",
        range(ensemble.n_conformers),
        format_func=lambda i: f"{i} · ΔE {table['energy_kcal_mol'][i]:.2f} · w {table['boltzmann_weight'][i]:.2f}",
        key="conf_pick",
        disabled=mode != "single",
    )
    show_viewer(
        ensemble_view(
            ensemble,
            conformer=conformer,
            mode=mode,
            style=style,
            surface="none" if animating else surface,
            color=color,
            labels=labels and not animating,
        )
    )
    if animating:
        st.caption("The animation steps through every conformer; surfaces and atom labels are off while it plays.")
    if color == "partial charge":
        st.caption("Gasteiger partial charges: red negative, white neutral, blue positive (full colour at ±0.4 e).")
with data_col:
    st.subheader(f"{ensemble.n_conformers} conformers · {ensemble.force_field}")
    st.altair_chart(energy_chart(table), key="conf_chart")
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "energy_kcal_mol": st.column_config.NumberColumn("ΔE (kcal/mol)", format="%.2f"),
            "boltzmann_weight": st.column_config.NumberColumn("weight", format="%.3f"),
            "rmsd_to_lowest": st.column_config.NumberColumn("RMSD to lowest (Å)", format="%.2f"),
            "cluster": st.column_config.NumberColumn("cluster (Butina, 1 Å)"),
        },
    )
    st.caption(f"Generated in {ensemble.seconds:.2f} s. RMSD: heavy atoms, symmetry-aware.")
    stem = (parsed.inchikey or "conformers").split("-")[0]
    d1, d2, d3 = st.columns(3)
    d1.download_button("SDF", ensemble.to_sdf(), f"{stem}_conformers.sdf", "chemical/x-mdl-sdfile", key="dl_sdf")
    d2.download_button("XYZ", ensemble.to_xyz(), f"{stem}_conformers.xyz", "chemical/x-xyz", key="dl_xyz")
    d3.download_button("PDB", ensemble.to_pdb(), f"{stem}_conformers.pdb", "chemical/x-pdb", key="dl_pdb")

with st.expander("Overlay with a second molecule (maximum common substructure)"):
    second = st.text_input("Second molecule (SMILES)", key="conf_second", placeholder="e.g. a close analogue").strip()
    if second:
        with st.spinner("Aligning on the common substructure…"):
            pair = _overlay(parsed.smiles, second, settings["seed"])
        if not pair.ok:
            st.error(f"Cannot overlay — {plain(pair.error)}")
        else:
            show_viewer(pair_view(pair, style=style, labels=labels), height=420)
            st.caption(
                f"Grey carbons: this molecule; cyan carbons: {plain(pair.smiles_b)}. {len(pair.atom_map)} common heavy "
                f"atoms, RMSD {pair.rmsd:.2f} Å. Atoms that differ: red spheres here "
                f"({', '.join(map(str, pair.differing_a)) or 'none'}), orange on the second "
                f"({', '.join(map(str, pair.differing_b)) or 'none'})."
            )
            for note in pair.notes:
                st.info(plain(note))
