"""Rendering the Asterisk configuration (for the sandbox and for a real PBX)."""
