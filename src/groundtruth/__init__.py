"""groundtruth: an open, versioned standard for labeled ML data."""
