"""photometric."""
