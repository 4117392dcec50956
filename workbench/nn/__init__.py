"""Network code: takes tensors, never imports RDKit."""

from workbench.nn.mlp import FeatureMLP

__all__ = ["FeatureMLP"]
