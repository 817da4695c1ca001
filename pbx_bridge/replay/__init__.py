"""Replay a centre's load against the sandbox with known truth, and check the store against it."""
