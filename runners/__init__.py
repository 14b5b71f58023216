"""BentoML runner services: one per model, each with adaptive batching."""
