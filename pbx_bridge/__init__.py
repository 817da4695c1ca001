"""pbx_bridge: the 112 emergency line's integration layer on Asterisk."""

__version__ = "0.1.0"
