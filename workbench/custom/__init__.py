"""Train on your own data: a user's table of measured values becomes a validated, calibrated model.

:mod:`~workbench.custom.data` checks and standardizes the table, :mod:`~workbench.custom.training` splits, searches
(:mod:`~workbench.custom.families`), selects, calibrates (:mod:`~workbench.custom.uncertainty`) and tests,
:mod:`~workbench.custom.checkpoint` writes the checkpoint into the user's models folder, and
:mod:`~workbench.custom.report` summarizes a run. ``workbench train custom`` and the "Train on your data" page call
these.
"""
