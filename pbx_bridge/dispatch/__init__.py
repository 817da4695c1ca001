"""Incidents, agencies, handoffs and their escalation."""
