"""Placing test calls with SIPp (inside the sandbox root) and reading back what it did."""
