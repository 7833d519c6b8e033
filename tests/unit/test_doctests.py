"""The examples in every docstring run, in every package; a module without examples is not counted as a test."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ingest
import scoring
import simulators
import stridewatch

FINDER = doctest.DocTestFinder()


def with_examples() -> list[str]:
    found = []
    for package in (ingest, scoring, simulators, stridewatch):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.endswith("__main__"):  # runs the command line when imported
                continue
            tests = FINDER.find(importlib.import_module(module.name))
            if any(test.examples for test in tests):
                found.append(module.name)
    return sorted(found)


MODULES = with_examples()


def test_the_examples_are_found_in_every_package_that_has_them() -> None:
    assert {name.split(".")[0] for name in MODULES} == {"ingest", "scoring", "stridewatch"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
