"""The root of BHYT's exceptions.

Every error BHYT raises on purpose subclasses :class:`BhytError` (and the matching builtin, so callers
can catch either). Each carries a stable ``code``: the CLI prints it, the HTTP API turns it into the
problem document's ``type`` (``/problems/<code>``, see :func:`problem_type`), and a script can match it.
The tree::

    BhytError                                   bhyt.error
    ├── PolicyInputError (ValueError)           policy.input: bad input to a policy function (unknown
    │   │                                       group code, benefit digit 9, a route that does not apply)
    │   └── CardError                           policy.card: a card number that fails its check
    ├── ParameterFileError (ValueError)         policy.parameter_file: a parameter file is malformed
    ├── ParameterNotFoundError (LookupError)    policy.no_rules: no value of a parameter on a date
    ├── ParameterTypeError (TypeError)          policy.parameter_type: a parameter read as the wrong kind
    ├── SettingsError                           settings.invalid: settings a command cannot start with
    ├── DatabaseError                           db.unavailable: a database that cannot be opened or used
    │   └── DatabaseMissingError                db.missing: a database to read that does not exist
    ├── TokenError                              auth.token: a token missing, malformed, expired, forged
    ├── PurposeError (ValueError)               auth.purpose: an X-Purpose that names no purpose code
    ├── FhirError (ValueError)                  claims.fhir: a FHIR resource that is not a claim we read
    ├── WorkerError (RuntimeError)              claims.worker: a reading process failed or died (a bug)
    ├── NothingIngestedError                    claims.nothing_ingested: no file given could be read (cli)
    ├── RegistryInputError (ValueError)         registry.input: a registry folder that cannot be loaded
    ├── RegistryRuleError (ValueError)          registry.<rule>: a change the registry's rules refuse
    ├── PersonNotFoundError (LookupError)       registry.person_unknown: no person with that citizen ID
    ├── FhirInputError                          registry.fhir: a FHIR eligibility request we cannot read
    ├── InputError (ValueError)                 assessment.input: a path ``bhyt assess`` cannot read
    ├── EngineUnavailableError                  assessment.engine: the engine cannot start here
    ├── UnknownRuleError (LookupError)          assessment.unknown_rule: no rule with that code (cli)
    ├── DetectInputError (ValueError)           fraud.input: a folder ``bhyt detect`` cannot read
    └── ModelError                              fraud.model: the shipped model is missing or stale

Where each error is defined is its domain; this module holds only the root, the errors that belong to
no single domain, and this map (kept in step by ``tests/test_errors.py``).
"""

from __future__ import annotations


class BhytError(Exception):
    """Base class of every error BHYT raises on purpose.

    ``code`` names the kind of error (stable: scripts and problem types depend on it); ``exit_code``
    is what the CLI exits with: 2 for input or usage it cannot work with, 1 for work that ran and
    failed.
    """

    code: str = "bhyt.error"
    exit_code: int = 2


class PolicyInputError(BhytError, ValueError):
    """Input to a policy function that the rules cannot price; the message names what is wrong."""

    code = "policy.input"

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r}: {message}")


class SettingsError(BhytError):
    """Settings that a command cannot start with: which variable and why."""

    code = "settings.invalid"


class DatabaseError(BhytError):
    """A database that cannot be opened, migrated or written: which one and why."""

    code = "db.unavailable"


class DatabaseMissingError(DatabaseError):
    """A command that reads a database was pointed at one that does not exist (it is not created)."""

    code = "db.missing"


def problem_type(code: str) -> str:
    """The problem document ``type`` of an error code: a URI reference the API itself answers.

    >>> problem_type("registry.facility_window")
    '/problems/registry.facility_window'
    """
    return f"/problems/{code}"
