"""Start the app: ``python -m workbench.app.serve [streamlit options]`` (what ``make run`` does).

Same as ``streamlit run app.py [options]``, with one difference. A fresh Streamlit server runs
its first session the legacy way when a ``pages/`` folder sits beside the entry script (Streamlit
1.x ``PagesManager.uses_pages_directory``): that session knows only the file stems, so a shared
deep link such as ``/property-prediction?smiles=...`` opened as the server's very first request
shows Streamlit's "Page not found" dialog and a blank page. ``app.py`` builds its navigation with
``st.navigation`` (which turns the legacy mode off, but only once it has run); setting the flag
before the server starts makes the first session behave like every later one.

It also starts the background warm-up (:func:`workbench.app.warmup.start_warmup`) as the server starts,
not when the first visitor arrives, so the models load while the server binds its port and the first
browser fetches the page (``WORKBENCH_WARMUP=0`` turns it off, as everywhere), and it embeds MiniMol in a
worker process (:mod:`workbench.featurizers.minimol_worker`; ``WORKBENCH_MINIMOL_WORKER=0`` turns it off).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["APP", "WORKER_VARIABLE", "disable_legacy_pages_folder", "main"]

#: As :data:`workbench.featurizers.minimol_worker.WORKER_VARIABLE` (not imported here: the launcher imports as
#: little as it can before the warm-up starts; a test checks that the two agree).
WORKER_VARIABLE = "WORKBENCH_MINIMOL_WORKER"

#: The Streamlit entry script.
APP = Path(__file__).resolve().parents[2] / "app.py"


def disable_legacy_pages_folder() -> bool:
    """Tell Streamlit the app navigates with ``st.navigation``; False where this Streamlit has no such flag."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return False
    if not hasattr(PagesManager, "uses_pages_directory"):
        return False
    PagesManager.uses_pages_directory = False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run ``streamlit run app.py`` with ``argv`` as its options, the legacy first run turned off, warming up."""
    from streamlit.web import cli

    disable_legacy_pages_folder()
    os.environ.setdefault(WORKER_VARIABLE, "1")  # MiniMol embeds in a worker process (its own CPU)
    from workbench.app.warmup import start_warmup

    start_warmup()  # a background thread: the server starts at once
    options = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(["run", str(APP), *options], standalone_mode=False)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
