"""One-off importers that turn external checkpoints into workbench checkpoints (never unpickling code)."""
