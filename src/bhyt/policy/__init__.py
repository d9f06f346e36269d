"""Rules as code: effective-dated parameters and the pure functions that read them.

Depends on nothing else in BHYT; every other domain computes money through this package.
"""
