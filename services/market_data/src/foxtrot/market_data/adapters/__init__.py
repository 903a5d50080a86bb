"""Market data's adapters: file readers and the synthetic feed."""
