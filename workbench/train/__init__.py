"""Training: one loop for every neural trainer, and the trainers that make shipped checkpoints.

* :mod:`~workbench.train.loop`: :func:`~workbench.train.loop.fit` (early stopping, progress, log, resume).
* :mod:`~workbench.train.run_folder`: a run's folder (configuration hash, per-epoch log, resumable state).
* :mod:`~workbench.train.supervised`: fits on graphs and on feature vectors through the loop.
* :mod:`~workbench.train.finetune`, :mod:`~workbench.train.minimol_heads`, :mod:`~workbench.train.retrieval`:
  GIN fine-tuning, MiniMol heads, the molecule–text dual encoder; :mod:`~workbench.train.baselines`: ECFP4 baselines.
"""
