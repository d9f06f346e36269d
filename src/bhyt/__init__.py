"""BHYT: a national social health insurance scheme run end to end."""

__version__ = "0.1.0"
