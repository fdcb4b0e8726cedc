"""Logs, metrics and traces (Powertools), and CloudWatch embedded-metric lines for the API path.
May import chalicelib.model only."""
