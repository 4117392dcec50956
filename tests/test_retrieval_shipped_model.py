"""The shipped text-search model on the issue's drug queries and its nonsense query (approved-drug library).

Each of the three drug-class queries either finds at least 3 members of its class in the top 10 (member lists in
``workbench/retrieval/drug_classes.py``, written from public knowledge) or stays off the page's examples and the
README says the model does not know that class; the nonsense query gets "no strong match".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench import retrieval
from workbench.retrieval.calibration import example_queries
from workbench.retrieval.drug_classes import DRUG_CLASSES, drug_check

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def shipped():
    retrieval.clear_cache()
    return retrieval.load_retriever("retrieval_amole", device="cpu")


@pytest.mark.slow
def test_each_drug_query_finds_its_class_or_is_not_offered_and_the_readme_says_so(shipped):
    checked = drug_check(10, retriever=shipped)
    assert set(checked["key"]) == set(DRUG_CLASSES)
    offered = example_queries(shipped, 6)
    readme = " ".join(README.read_text().split())
    for row in checked.itertuples():
        assert row.top and len(row.top) == 10
        if row.members_in_top >= 3:
            continue
        assert row.query not in offered, f"the page offers {row.query!r}, which finds {row.members_in_top} members"
        assert f"*{row.query}*" in readme, f"the README does not say how the model does on {row.query!r}"


@pytest.mark.slow
def test_a_nonsense_query_gets_no_strong_match(shipped):
    result = retrieval.text_search("a purple elephant that sings", "drugs", 10, retriever=shipped)
    assert result.strong is False and result.message.startswith("No strong match")
    assert len(result.hits) == 10  # the hits are still shown, under the warning
