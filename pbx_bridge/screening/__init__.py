"""Screening: what each 112 call is, decided by a pure state machine fed by ARI events."""
