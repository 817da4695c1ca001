"""Prometheus metrics, served at /metrics."""

from prometheus_client import Counter, Gauge

ARI_EVENTS = Counter("pbx_bridge_ari_events_total", "ARI events received", ["type"])
ACTIVE_CALLS = Gauge("pbx_bridge_active_calls", "Calls the controller is holding")
CALLS_ENDED = Counter("pbx_bridge_calls_ended_total", "Calls ended and recorded")
STORE_FAILURES = Counter("pbx_bridge_store_failures_total", "Call records the store refused")
SPOOLED_CALLS = Gauge(
    "pbx_bridge_spooled_calls", "Call records waiting in the spool for the database"
)
ARI_CONNECTED = Gauge("pbx_bridge_ari_connected", "1 while the ARI events websocket is up")
AMI_CONNECTED = Gauge("pbx_bridge_ami_connected", "1 while AMI is connected and logged in")
