"""Callbacks: every abandoned caller gets at least one attempt (NENA), bridged to a call taker."""
