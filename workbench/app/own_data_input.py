"""The input half of "Train on your data": the file (or the example), its preview, and the run's choices.

Widget keys start with ``own_``. Choices that depend on the file (targets, model name) are reset to their
defaults when another file arrives (``own_file`` holds the file's id); the transform follows the targets (the
suggestion for the first target, with its reason, whenever the targets change).
"""

from __future__ import annotations

import streamlit as st

from workbench.app.own_data import (
    EXAMPLE_TARGET,
    TrainRequest,
    column_values,
    default_model_name,
    example_file,
    split_options,
    target_options,
)
from workbench.app.render import plain, show_depiction
from workbench.app.upload import MOLECULE_TYPES, TRAIN_LIMITS, read_molecule_file
from workbench.chem import parse_many
from workbench.chem.uploads import Upload
from workbench.custom.checkpoint import ModelNameError, check_model_name
from workbench.custom.data import TASKS, TRANSFORMS, detect_task, suggest_transform
from workbench.data import DataUnavailableError
from workbench.hashing import sha256_bytes

__all__ = ["FileInput", "choose_request", "file_input", "preview", "read_input"]

EXAMPLE_KEY = "own_example"
_SPLIT_LABELS = {"scaffold": "scaffold (Bemis–Murcko)", "random": "random (seeded)"}
_SPLIT_HELP = (
    "scaffold: molecules grouped by Bemis–Murcko scaffold, the largest groups to training, so the test scaffolds "
    "are new to the model (an honest estimate for new chemistry); random: a seeded 80 / 10 / 10 split (optimistic "
    "when close analogues fall on both sides); a column of your file holding train / valid / test in each row."
)
_TRANSFORM_HELP = {
    "none": "none: learn the values as they are",
    "log10": "log10: learn log10(value)",
    "pIC50-from-nM": "pIC50-from-nM: learn 9 − log10(value in nM)",
}


class FileInput:
    """The bytes to train on and where they came from."""

    def __init__(self, data: bytes, name: str, file_id: str, example: bool = False) -> None:
        self.data, self.name, self.file_id, self.example = data, name, file_id, example
        self.sha256 = sha256_bytes(data)


@st.cache_data(show_spinner="Exporting the example…")
def _example() -> tuple[bytes, str]:
    return example_file()


def _use_example() -> None:
    st.session_state[EXAMPLE_KEY] = True


def file_input() -> FileInput | None:
    """The uploader and the example button; the uploaded file wins over the example."""
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        file = st.file_uploader(
            "Your measurements: a CSV with a SMILES column and one column per measured property, or an SDF with "
            "the values as properties",
            type=list(MOLECULE_TYPES),
            key="own_upload",
        )
    with right:
        st.button(
            "Try an example",
            key="own_example_button",
            on_click=_use_example,
            help=f"MoleculeACE's {EXAMPLE_TARGET}: 631 molecules with EC50 in nM and MoleculeACE's own split",
        )
    if file is not None:
        st.session_state[EXAMPLE_KEY] = False
        data = file.getvalue()
        return FileInput(data, file.name, f"{file.file_id}:{file.name}:{len(data)}")
    if st.session_state.get(EXAMPLE_KEY):
        try:
            data, name = _example()
        except DataUnavailableError as exc:
            st.error(plain(f"The example needs MoleculeACE's files: {exc}"))
            return None
        st.caption(f"Example: MoleculeACE's {EXAMPLE_TARGET} exported as {name} (upload a file to use your own).")
        st.download_button("Download the example CSV", data, name, "text/csv", key="own_example_download")
        return FileInput(data, name, f"example:{name}", example=True)
    return None


def read_input(source: FileInput) -> Upload | None:
    """The file read with the checks of every upload (the SMILES column picker for a CSV); ``None`` on an error."""
    return read_molecule_file(
        source.data, source.name, key="own_file_read", limits=TRAIN_LIMITS, file_id=source.file_id
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _parsed(smiles: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(p.smiles, "") if p.ok else ("", p.error or "not a molecule") for p in parse_many(smiles)]


def preview(upload: Upload, rows: int = 6) -> None:
    """The first rows of the table and their parsed structures."""
    table = upload.table
    shown = (
        table.drop(columns=["read_error"])
        if "read_error" in table and not table["read_error"].astype(bool).any()
        else table
    )
    st.dataframe(shown.head(200), hide_index=True, height=220)
    parsed = _parsed(tuple(table["smiles"].astype(str).head(rows)))
    for column, (i, (smiles, error)) in zip(st.columns(rows), enumerate(parsed), strict=False):
        with column:
            if smiles:
                show_depiction(smiles, width=170, height=130, caption=f"row {i}")
            else:
                st.caption(plain(f"row {i}: {error}"))


def _reset(key: str, value: object, stale: bool) -> None:
    if stale or key not in st.session_state:
        st.session_state[key] = value


def choose_request(source: FileInput, upload: Upload) -> tuple[TrainRequest | None, str]:
    """The targets, task, transform, split, effort, seed and model name; the request and a problem (or "")."""
    table, options = upload.table, target_options(upload)
    new_file = st.session_state.get("own_file") != source.file_id
    st.session_state["own_file"] = source.file_id
    _reset("own_targets", options[:1], new_file)
    _reset("own_name", default_model_name(source.name), new_file)
    st.session_state["own_targets"] = [t for t in st.session_state["own_targets"] if t in options]
    left, mid, right = st.columns(3)
    with left:
        targets = st.multiselect(
            "Target column(s) to learn",
            options,
            key="own_targets",
            help="Numeric columns first. Several targets make one multi-task model (one set of models per target).",
        )
    if not targets:
        st.info("Choose the column that holds the measured values.")
        return None, "no target"
    values = column_values(table, targets[0])
    detected = detect_task(values)
    suggested, reason = suggest_transform(targets[0], values)
    if detected == "classification":  # the library reasons "not all positive" for 0 / 1 labels
        suggested, reason = "none", "classes (0 / 1) are not transformed"
    _reset("own_transform", suggested, st.session_state.get("own_transform_for") != tuple(targets))
    st.session_state["own_transform_for"] = tuple(targets)
    with left:
        task = st.selectbox("Task", TASKS, key="own_task", help="auto: classification when every label is 0 or 1")
        st.caption(
            plain(f"Detected: {detected}" + (" (every label is 0 or 1)" if detected == "classification" else ""))
        )
    with mid:
        transform = st.selectbox(
            "Transform of the values", TRANSFORMS, key="own_transform", format_func=_TRANSFORM_HELP.get
        )
        st.caption(plain(f"Suggested: {suggested}: {reason}."))
        splits = split_options(table, exclude=tuple(targets))
        _reset("own_split", "scaffold", st.session_state.get("own_split") not in splits)
        split = st.selectbox(
            "Split",
            splits,
            key="own_split",
            format_func=lambda s: _SPLIT_LABELS.get(s, f"the file's '{s[7:]}' column"),
            help=_SPLIT_HELP,
        )
    with right:
        effort = st.radio(
            "Effort",
            ["quick", "thorough"],
            key="own_effort",
            horizontal=True,
            help="quick: small grids, one seed; thorough: larger grids and a 3-seed ensemble (several times longer)",
        )
        seed = int(st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="own_seed"))
        name = st.text_input("Model name", key="own_name", help="Lowercase letters, digits, _ - . (at most 64)")
    request = TrainRequest(
        filename=source.name,
        sha256=source.sha256,
        targets=tuple(targets),
        smiles_column=upload.smiles.column if upload.smiles is not None else None,
        task=task,
        transform=transform,
        split=split,
        effort=effort,
        seed=seed,
        name=name.strip(),
    )
    try:
        check_model_name(request.name)
    except ModelNameError as exc:
        st.error(plain(str(exc)))
        return request, str(exc)
    return request, ""
