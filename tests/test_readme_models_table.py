"""The README's table of shipped models is exactly what ``workbench models list --markdown`` prints."""

from __future__ import annotations

from pathlib import Path

from workbench.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_models_table(text: str) -> str:
    """The Markdown table that starts with the ``| name | group | architecture`` header line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace(" ", "").startswith("|name|group|architecture|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def test_readme_table_equals_the_models_list_markdown_output(capsys, monkeypatch):
    monkeypatch.delenv("WORKBENCH_MODELS_DIR", raising=False)  # the shipped models/ only
    assert main(["models", "list", "--markdown"]) == 0
    printed = capsys.readouterr().out.strip()
    assert readme_models_table(README.read_text(encoding="utf-8")) == printed, (
        "README.md's model table is out of date: replace it with the output of `workbench models list --markdown`"
    )


def test_the_table_reader_stops_at_the_end_of_the_table():
    text = "intro\n\n| name | group | architecture |\n|:--|:--|:--|\n| a | b | c |\n\nafter\n| x |\n"
    assert readme_models_table(text) == "| name | group | architecture |\n|:--|:--|:--|\n| a | b | c |"
