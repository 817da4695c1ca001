"""`pbx-bridge faults`: each fault against the real sandbox with SIPp callers and call takers,
measured from outside the controller, into RELIABILITY.md."""
