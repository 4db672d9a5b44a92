"""Generation: the provider port (Replicate, local), the model catalog and pricing."""
