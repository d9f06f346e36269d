"""The error backbone: every error BHYT raises on purpose is a BhytError with a stable code, drawn in
errors.py's tree, and the API answers each with a problem type that it documents."""

from __future__ import annotations

import importlib
import pkgutil

import bhyt
from bhyt.errors import BhytError


def _all_errors() -> list[type[BhytError]]:
    for info in pkgutil.walk_packages(bhyt.__path__, "bhyt."):
        if ".migrations" not in info.name and not info.name.endswith("_flat"):
            importlib.import_module(info.name)
    found, todo = [], [BhytError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_is_in_the_tree_with_its_code() -> None:
    tree = importlib.import_module("bhyt.errors").__doc__ or ""
    errors = _all_errors()
    names = {cls.__name__ for cls in errors}
    # The three that stood outside the backbone before.
    assert {"FhirError", "PurposeError", "WorkerError"} <= names
    for cls in errors:
        assert cls.__name__ in tree, f"{cls.__name__} is not drawn in errors.py"
        assert cls.code.split(".")[0] in tree, cls
        assert cls.exit_code in (1, 2), cls


def test_codes_name_one_kind_each() -> None:
    by_code: dict[str, str] = {}
    for cls in _all_errors():
        assert by_code.setdefault(cls.code, cls.__name__) == cls.__name__, f"{cls.code} is shared"


def test_every_registry_rule_code_is_documented() -> None:
    """Each code a RegistryRuleError is raised with has its meaning in RULE_CODES (the API's /problems)."""
    import re
    from pathlib import Path

    from bhyt.registry.lifecycle import RULE_CODES

    source = "".join(p.read_text(encoding="utf-8") for p in Path(bhyt.__file__).parent.rglob("*.py"))
    raised = set(re.findall(r'RegistryRuleError\(\s*"(registry\.[a-z_]+)"', source))
    assert raised
    assert raised <= set(RULE_CODES), raised - set(RULE_CODES)
