"""Reconciliation: Asterisk's own call records fill in the calls the controller did not see end."""
