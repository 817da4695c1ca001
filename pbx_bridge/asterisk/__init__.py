"""Transports to Asterisk: ARI (REST + events), AMI, and the embedded sandbox."""
