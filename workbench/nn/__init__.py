"""Network code: takes tensors, never imports RDKit."""

from workbench.nn.gin import GIN, GINConv
from workbench.nn.heads import GINPredictor, masked_bce_loss, masked_mse_loss, mean_pool
from workbench.nn.mlp import FeatureMLP

__all__ = ["GIN", "FeatureMLP", "GINConv", "GINPredictor", "masked_bce_loss", "masked_mse_loss", "mean_pool"]
