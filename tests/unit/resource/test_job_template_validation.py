"""spec.selection and spec.tests: what a Job template needs, named by the field."""

from __future__ import annotations

from typing import Any

import pytest

from airollout.core.resource.validation import FieldError, parse_spec, validate

pytestmark = pytest.mark.unit

POD = {"template": {"spec": {"containers": [{"name": "run", "command": ["true"]}]}}}


def spec(**extra: Any) -> dict[str, Any]:
    return {"targetRef": {"name": "web"}, "template": {"image": "web:v2"}, **extra}


def test_selection_and_tests_parse_with_their_defaults() -> None:
    parsed = parse_spec(
        spec(selection={"jobTemplate": {"spec": POD}}, tests={"jobTemplate": {"spec": POD}})
    )
    assert parsed.selection is not None
    assert parsed.tests is not None
    assert parsed.selection.active_deadline_seconds == 1800
    assert (parsed.tests.max_parallelism, parsed.tests.active_deadline_seconds) == (4, 3600)


def test_tests_without_selection_name_spec_tests() -> None:
    errors = validate(spec(tests={"jobTemplate": {"spec": POD}}))
    assert (
        FieldError("spec.tests", "needs spec.selection: the tests run the plan it makes") in errors
    )


def test_a_job_template_without_a_container_names_the_containers_field() -> None:
    errors = validate(spec(selection={"jobTemplate": {"spec": {"template": {"spec": {}}}}}))
    assert errors == [
        FieldError(
            "spec.selection.jobTemplate.spec.template.spec.containers", "must list a container"
        )
    ]


def test_fields_the_operator_sets_are_refused_in_the_tests_template() -> None:
    template = {"spec": {**POD, "completions": 3, "completionMode": "NonIndexed"}}
    errors = validate(
        spec(selection={"jobTemplate": {"spec": POD}}, tests={"jobTemplate": template})
    )
    assert [error.path for error in errors] == [
        "spec.tests.jobTemplate.spec.completions",
        "spec.tests.jobTemplate.spec.completionMode",
    ]


def test_max_parallelism_out_of_range_names_the_field() -> None:
    tests = {"jobTemplate": {"spec": POD}, "maxParallelism": 0}
    errors = validate(spec(selection={"jobTemplate": {"spec": POD}}, tests=tests))
    assert [error.path for error in errors] == ["spec.tests.maxParallelism"]
