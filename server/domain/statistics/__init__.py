"""Statistics over the anonymous contact records (docs/statistics.md)."""
