"""Model zoo: every registered checkpoint with its card, and the benchmark against published numbers."""

import streamlit as st

from workbench.app.lazy_tabs import lazy_tabs
from workbench.app.render import plain
from workbench.champions.comparison import COLOURS, champion_comparison, read_champion_cells
from workbench.models import skipped_checkpoints
from workbench.models.zoo import benchmark_figure, benchmark_table, card_facts, card_rows, init_comparison_rows
from workbench.predict.inference import list_models

st.title("Model zoo")
checkpoints = list_models()
if skipped := skipped_checkpoints():
    st.warning(f"{len(skipped)} checkpoint folder(s) could not be read and were skipped; the others are listed.")
    st.code("\n".join(skipped), language=None, wrap_lines=True)
if not checkpoints:
    st.warning("No checkpoints are registered in models/ or WORKBENCH_MODELS_DIR.")
    st.stop()
#: The page's views; only the open one runs and is drawn (``st.tabs(..., on_change="rerun")``).
ZOO_TABS = ("Models", "Champions vs published", "Benchmark")
models_tab, champions_tab, bench_tab = lazy_tabs(ZOO_TABS, key="zoo_tab", keep={ZOO_TABS[0]: ("zoo_model",)})
if models_tab.open:
    with models_tab:
        summary = card_rows(checkpoints)
        st.dataframe(summary.drop(columns=["command"]), hide_index=True)
        st.caption(
            "Test metrics are mean ± std over the seeds of each ensemble, on the held-out split named in the card "
            "(ROC-AUC for classification, RMSE and MAE for regression)."
        )

        name = st.selectbox("Model card", summary["name"], key="zoo_model")
        card = next(c.card for c in checkpoints if c.name == name)
        left, right = st.columns([1, 1])
        card_json = card.to_dict()
        with left:
            st.markdown(f"**{plain(card.name)}**")
            for label, text in card_facts(card):
                st.markdown(f"**{label}:** {plain(text)}")
            st.markdown("Reproduce with:")
            st.code(card.command, language="bash")
        with right:
            st.json(card_json["metrics"], expanded=False)
        with st.expander("Full card (JSON)"):
            st.json(card_json, expanded=False)

if champions_tab.open:
    with champions_tab:
        st.subheader("Champions vs published results (scaffold split)")
        comparison = champion_comparison(read_champion_cells())
        if comparison.empty:
            st.info("No champion search results yet: run `workbench bench champions`.")
        else:
            st.altair_chart(benchmark_figure(comparison, COLOURS), key="zoo_champions")
            shown = comparison.drop(columns=["source"]).round({"mean": 3, "std": 3})
            st.dataframe(shown, hide_index=True, key="zoo_champions_table")
            st.caption(
                "Our champion per data set is the search's candidate best on the validation split; its bar is "
                "the test score, mean ± std over seeds (`bench/results/moleculenet.md`, `workbench bench "
                "champions`). Our GIN rows: the pretraining benchmark's GIN from random weights and from the "
                "AttrMask encoder, test at the best-validation epoch. Published rows: GraphMVP (Liu et al., ICLR "
                "2022), scaffold split, 3 seeds; values that were not published or could not be confirmed are left "
                "out. Data sets whose search has not finished (every cell of its grid fitted) have no bar yet."
            )

if bench_tab.open:
    with bench_tab:
        st.subheader("Benchmark: scaffold split, 3 seeds (the first ECFP4 baselines and the GINs)")
        bench = benchmark_table()
        if bench is None:
            st.info("No benchmark results yet: run `python -m bench.baselines`.")
        else:
            st.dataframe(bench, hide_index=True)
            st.altair_chart(benchmark_figure(bench), key="zoo_bench")
            st.caption(
                "Classification data sets report ROC-AUC (higher is better), regression ones RMSE (lower is better). "
                "`bench/results/baselines.md`; the champion search (Champions vs published) supersedes it."
            )
        before_after = init_comparison_rows(checkpoints)
        if not before_after.empty:
            st.subheader("Shipped GINs: from random weights or from a pretrained encoder")
            st.dataframe(before_after, hide_index=True, key="zoo_init")
            st.caption(
                "Each GIN was fine-tuned both ways with the same command and seeds; the one better on validation "
                "ships (test scores never decide). Mean ± std over seeds; `workbench train finetune ... --init "
                "models/encoders/attrmask --only-if-better` makes the comparison."
            )
