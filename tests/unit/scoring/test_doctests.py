"""The examples in the scoring docstrings run."""

import doctest
import importlib
import pkgutil

import pytest

import scoring

MODULES = sorted(m.name for m in pkgutil.walk_packages(scoring.__path__, "scoring."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
