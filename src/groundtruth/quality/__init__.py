"""Label quality: inter-annotator agreement and consensus."""
