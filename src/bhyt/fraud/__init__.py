"""Abuse and fraud detection over assessed claims: features, pattern detectors, a learned risk score,
ranked worklists and their evaluation against the synthetic nation's labels (``bhyt detect``)."""
