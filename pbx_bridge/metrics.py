"""Prometheus metrics, served at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

ARI_EVENTS = Counter("pbx_bridge_ari_events_total", "ARI events received", ["type"])
ACTIVE_CALLS = Gauge("pbx_bridge_active_calls", "Calls the controller is holding")
CALLS_ENDED = Counter("pbx_bridge_calls_ended_total", "Calls ended and recorded")
STORE_FAILURES = Counter("pbx_bridge_store_failures_total", "Call records the store refused")
SPOOLED_CALLS = Gauge(
    "pbx_bridge_spooled_calls", "Call records waiting in the spool for the database"
)
ARI_CONNECTED = Gauge("pbx_bridge_ari_connected", "1 while the ARI events websocket is up")
AMI_CONNECTED = Gauge("pbx_bridge_ami_connected", "1 while AMI is connected and logged in")
LOOP_LAG = Histogram(
    "pbx_bridge_event_loop_lag_seconds",
    "How much later than asked the event loop woke a sleeping task",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
LOOP_LAG_MAX = Gauge(
    "pbx_bridge_event_loop_lag_max_seconds", "The largest event-loop lag since the process started"
)
AUTH_FAILURES = Counter(
    "pbx_bridge_auth_failures_total", "API requests refused for a missing, unknown or dead token"
)
AUTH_THROTTLED = Counter(
    "pbx_bridge_auth_throttled_total", "API requests refused (429) after too many failed tokens"
)
QUEUE_CALLERS = Gauge("pbx_bridge_queue_callers", "Callers waiting in the 112 queue")
QUEUE_LONGEST_WAIT = Gauge(
    "pbx_bridge_queue_longest_wait_seconds", "How long the longest-waiting caller has waited"
)
QUEUE_TAKERS = Gauge(
    "pbx_bridge_queue_takers", "Call takers and supervisors by their queue state", ["state"]
)
QUEUE_UNATTENDED = Gauge(
    "pbx_bridge_queue_unattended", "1 while callers wait and no call taker is ready to answer"
)
QUEUE_MEMBERS_RESTORED = Counter(
    "pbx_bridge_queue_members_restored_total",
    "Call takers put back in the queue after app_queue came back without its members",
)
