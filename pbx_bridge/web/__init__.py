"""The web API: health, Prometheus metrics and the call records."""
