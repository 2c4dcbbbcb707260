"""evaluation.errors: one exception family, and Problems that say file:row:column, what was found,
what was expected and how to mend it."""

from __future__ import annotations

import dataclasses

import pytest

from evaluation.errors import (
    EvaluationError,
    ParameterError,
    PrivacyError,
    Problem,
    ValidationError,
)

BAD_KIND = Problem("units.csv", 4, "kind", "'skole'", "school or daycare", "Write school.")


def test_problem_reads_file_row_column_found_expected_fix():
    assert str(BAD_KIND) == (
        "units.csv:4:kind: found 'skole'; expected school or daycare. Fix: Write school."
    )


def test_problem_leaves_out_a_row_or_column_it_does_not_have():
    no_row = Problem("units.csv", None, "kind", "no column 'kind'", "a column 'kind'", "Add it.")
    assert (
        str(no_row)
        == "units.csv:kind: found no column 'kind'; expected a column 'kind'. Fix: Add it."
    )
    whole_file = Problem("units.csv", None, None, "an empty file", "a header row", "Export again.")
    assert (
        str(whole_file)
        == "units.csv: found an empty file; expected a header row. Fix: Export again."
    )


def test_problem_is_a_value():
    assert BAD_KIND == Problem(
        "units.csv", 4, "kind", "'skole'", "school or daycare", "Write school."
    )
    assert len({BAD_KIND, dataclasses.replace(BAD_KIND)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        BAD_KIND.row = 5


def test_validation_error_lists_every_problem_and_how_many_more():
    other = Problem("register.csv", 2, "pupils", "'-1'", "a whole number, 0 or more", "Fix it.")
    error = ValidationError([BAD_KIND, other], more=3)
    assert error.problems == [BAD_KIND, other] and error.more == 3
    assert str(error) == f"{BAD_KIND}\n{other}\n... and 3 more problems not shown"
    assert str(ValidationError([BAD_KIND])) == str(BAD_KIND)
    assert ValidationError([]).problems == [] and ValidationError([]).more == 0


def test_every_error_belongs_to_the_family():
    for kind in (ParameterError, PrivacyError, ValidationError):
        assert issubclass(kind, EvaluationError)
    assert issubclass(EvaluationError, Exception)
    with pytest.raises(EvaluationError, match="found 'skole'"):
        raise ValidationError([BAD_KIND])
