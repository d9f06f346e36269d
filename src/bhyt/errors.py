"""The root of BHYT's exceptions.

Every domain error subclasses :class:`BhytError` and the matching builtin, so callers can catch
either. The tree::

    BhytError
    ├── ParameterFileError (ValueError)     a parameter file is malformed (policy.params)
    ├── ParameterNotFoundError (LookupError) no value of a parameter on a date (policy.params)
    ├── ParameterTypeError (TypeError)      a parameter read as the wrong kind (policy.params)
    └── PolicyInputError (ValueError)       bad input to a policy function: unknown group code,
                                            benefit digit 9, a route code that does not apply, …
"""

from __future__ import annotations


class BhytError(Exception):
    """Base class of every error BHYT raises on purpose."""


class PolicyInputError(BhytError, ValueError):
    """Input to a policy function that the rules cannot price; the message names what is wrong."""

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r}: {message}")
