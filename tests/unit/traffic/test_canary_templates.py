"""Building the canary's pod template from the target's template and the rollout's change."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from airollout.adapters.traffic.canary_template import (
    build_template,
    container_images,
    describe_change,
    strategic_merge,
    template_hash,
)
from airollout.adapters.traffic.router import RouterError
from airollout.core.resource.spec import PodTemplate

pytestmark = pytest.mark.unit


def _template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "checkout"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example/checkout:1",
                    "env": [{"name": "MODE", "value": "fast"}, {"name": "LOG", "value": "info"}],
                    "args": ["--port", "8080"],
                },
                {"name": "proxy", "image": "registry.example/proxy:7"},
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        },
    }


def _images(template: dict[str, Any]) -> list[str]:
    return [c["image"] for c in template["spec"]["containers"]]


def test_image_goes_to_the_first_container_by_default() -> None:
    built = build_template(_template(), PodTemplate(image="registry.example/checkout:2"))

    assert _images(built) == ["registry.example/checkout:2", "registry.example/proxy:7"]


def test_image_goes_to_the_named_container_only() -> None:
    change = PodTemplate(image="registry.example/proxy:8", container="proxy")

    built = build_template(_template(), change)

    assert _images(built) == ["registry.example/checkout:1", "registry.example/proxy:8"]


def test_an_unknown_container_name_is_an_error_naming_it_and_the_known_ones() -> None:
    change = PodTemplate(image="x:1", container="sidecar")

    with pytest.raises(RouterError, match=r"'sidecar'.*app, proxy"):
        build_template(_template(), change)


def test_the_target_template_is_left_untouched() -> None:
    original = _template()
    build_template(original, PodTemplate(image="x:2"))
    build_template(original, PodTemplate(pod_template_patch={"metadata": {"labels": {"a": "b"}}}))

    assert original == _template()


def test_patch_merges_env_by_name_keeping_other_variables() -> None:
    patch = {
        "spec": {
            "containers": [
                {"name": "app", "env": [{"name": "MODE", "value": "safe"}, {"name": "NEW"}]}
            ]
        }
    }

    built = build_template(_template(), PodTemplate(pod_template_patch=patch))

    app = built["spec"]["containers"][0]
    assert app["env"] == [
        {"name": "MODE", "value": "safe"},
        {"name": "LOG", "value": "info"},
        {"name": "NEW"},
    ]
    assert app["image"] == "registry.example/checkout:1", "fields the patch omits stay"
    assert built["spec"]["containers"][1] == _template()["spec"]["containers"][1]


def test_patch_appends_containers_and_volumes_with_new_names() -> None:
    patch = {
        "spec": {
            "containers": [{"name": "debug", "image": "busybox"}],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        }
    }

    built = build_template(_template(), PodTemplate(pod_template_patch=patch))

    assert [c["name"] for c in built["spec"]["containers"]] == ["app", "proxy", "debug"]
    assert [v["name"] for v in built["spec"]["volumes"]] == ["cache", "tmp"]


def test_other_lists_are_replaced_not_merged() -> None:
    patch = {"spec": {"containers": [{"name": "app", "args": ["--port", "9090"]}]}}

    built = build_template(_template(), PodTemplate(pod_template_patch=patch))

    assert built["spec"]["containers"][0]["args"] == ["--port", "9090"]


def test_dicts_merge_recursively_and_none_deletes_a_key() -> None:
    base = {"metadata": {"labels": {"app": "checkout", "tier": "web"}, "annotations": {"x": "1"}}}
    patch = {"metadata": {"labels": {"tier": None, "track": "canary"}}}

    merged = strategic_merge(base, patch)

    assert merged == {
        "metadata": {"labels": {"app": "checkout", "track": "canary"}, "annotations": {"x": "1"}}
    }


def test_a_list_item_merged_by_name_must_have_a_name() -> None:
    patch = {"spec": {"containers": [{"image": "nameless:1"}]}}

    with pytest.raises(RouterError, match="no name"):
        build_template(_template(), PodTemplate(pod_template_patch=patch))


def test_image_into_a_template_without_containers_is_an_error() -> None:
    with pytest.raises(RouterError, match="no containers"):
        build_template({"spec": {"containers": []}}, PodTemplate(image="x:1"))


def test_hash_ignores_key_order_but_not_content() -> None:
    template = _template()
    reordered = dict(reversed(list(copy.deepcopy(template).items())))
    changed = build_template(template, PodTemplate(image="registry.example/checkout:2"))

    assert template_hash(reordered) == template_hash(template)
    assert template_hash(changed) != template_hash(template)


def test_change_description_names_the_container_and_both_images() -> None:
    before = container_images(_template())
    after = container_images(build_template(_template(), PodTemplate(image="evil:6")))

    assert describe_change(before, after) == (
        "container app image registry.example/checkout:1 -> evil:6"
    )
    assert "not the images" in describe_change(before, before)
