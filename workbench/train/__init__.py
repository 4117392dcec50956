"""Training entry points: GIN fine-tuning and fingerprint baselines."""
