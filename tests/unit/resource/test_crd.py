from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from airollout.core.resource import crd

pytestmark = pytest.mark.unit

REPO = Path(__file__).parents[3]
COMMITTED = REPO / "crds" / crd.CRD_FILE_NAME
CHART_COPY = REPO / "charts" / "airollout" / "crds" / crd.CRD_FILE_NAME


def version() -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd.crd_manifest()["spec"]["versions"]
    return versions[0]


def openapi_schema() -> dict[str, Any]:
    schema: dict[str, Any] = version()["schema"]["openAPIV3Schema"]
    return schema


def schema_nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from schema_nodes(child, f"{path}.{name}")
    if "items" in node:
        yield from schema_nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from schema_nodes(node["additionalProperties"], f"{path}{{}}")


def node_at(path: str) -> dict[str, Any]:
    return dict(schema_nodes(openapi_schema()))[path]


def test_committed_crd_matches_the_models_run_make_crds_if_this_fails() -> None:
    assert COMMITTED.read_text() == crd.crd_yaml()


def test_chart_carries_the_same_crd() -> None:
    assert CHART_COPY.read_text() == COMMITTED.read_text()


def test_check_fails_on_drift_and_passes_after_write(tmp_path: Path) -> None:
    crd_dir = tmp_path / "crds"
    assert crd.main(["--check", str(crd_dir)]) == 1

    assert crd.main(["--write", str(crd_dir)]) == 0
    assert crd.main(["--check", str(crd_dir)]) == 0
    assert (tmp_path / "charts" / "airollout" / "crds" / crd.CRD_FILE_NAME).exists()

    written = crd_dir / crd.CRD_FILE_NAME
    written.write_text(written.read_text().replace("maxItems: 20", "maxItems: 21", 1))
    assert crd.main(["--check", str(crd_dir)]) == 1


def test_generation_is_deterministic() -> None:
    assert crd.crd_yaml() == crd.crd_yaml()
    assert yaml.safe_load(crd.crd_yaml()) == crd.crd_manifest()


def test_schema_is_structural_every_node_typed_and_nothing_unresolved() -> None:
    for path, node in schema_nodes(openapi_schema()):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        assert not {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title"} & node.keys(), path
        assert node.get("additionalProperties") is not False, path
        assert "default" not in node or node["default"] is not None, path
        if "properties" in node:
            assert node["type"] == "object", path
            assert "additionalProperties" not in node, path
        if node.get("type") == "array":
            assert "items" in node, path
        assert node.get("exclusiveMinimum") in (None, True), path


def test_lists_checked_by_cel_are_bounded_to_keep_rule_cost_low() -> None:
    for path, node in schema_nodes(openapi_schema()["properties"]["spec"], ".spec"):
        if node.get("type") == "array":
            assert "maxItems" in node, path


def test_identity_names_and_status_subresource() -> None:
    manifest = crd.crd_manifest()
    names = manifest["spec"]["names"]

    assert manifest["metadata"]["name"] == "airollouts.airollout.dev"
    assert manifest["spec"]["group"] == "airollout.dev"
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "AIRollout",
        "airollouts",
        ["air"],
    )
    assert "airollout" in names["categories"]
    assert (version()["name"], version()["served"], version()["storage"]) == (
        "v1alpha1",
        True,
        True,
    )
    assert version()["subresources"] == {"status": {}}


def test_printer_columns_show_phase_weight_last_decision_and_age() -> None:
    columns = {c["name"]: c["jsonPath"] for c in version()["additionalPrinterColumns"]}

    assert columns["Phase"] == ".status.phase"
    assert columns["Weight"] == ".status.weight"
    assert columns["Last decision"] == ".status.lastDecision"
    assert columns["Age"] == ".metadata.creationTimestamp"
    for path in (".status.phase", ".status.weight", ".status.lastDecision"):
        assert path in dict(schema_nodes(openapi_schema())), path


def test_apply_time_validations_are_in_the_schema() -> None:
    def rules(path: str) -> str:
        return " ".join(r["rule"] for r in node_at(path).get("x-kubernetes-validations", []))

    assert "isSorted()" in rules(".spec.traffic")
    assert "== 100" in rules(".spec.traffic")
    one_slice = node_at(".spec.traffic.slices[]")
    assert (one_slice["minimum"], one_slice["maximum"]) == (1, 100)
    assert "has(self.image) != has(self.podTemplatePatch)" in rules(".spec.template")
    assert "errorQuery" in rules(".spec.analysis.metrics[]")
    assert "bucketsQuery" in rules(".spec.analysis.metrics[]")
    assert node_at(".spec.judge.mode")["enum"] == ["rules", "llm", "hybrid"]
    assert node_at(".spec.traffic.router")["enum"] == ["replicas"]
    assert node_at(".spec.onHold.then")["enum"] == ["rollback", "pause"]
    assert node_at(".spec.analysis.interval")["pattern"].startswith("^([0-9]+h)?")


def test_free_form_parts_keep_unknown_fields() -> None:
    for path in (
        ".spec.template.podTemplatePatch",
        ".status.evidence",
        ".status.decisions[]",
    ):
        assert node_at(path)["x-kubernetes-preserve-unknown-fields"] is True, path
    assert "metrics" in node_at(".status.decisions[]")["properties"]


def test_cel_errors_name_the_field_not_only_the_object_holding_the_rule() -> None:
    def field_paths(path: str) -> set[str]:
        return {r.get("fieldPath", "") for r in node_at(path)["x-kubernetes-validations"]}

    assert field_paths(".spec.traffic") >= {".slices"}
    assert field_paths(".spec.judge") == {".llm"}
    for path in (".spec.traffic", ".spec.judge", ".spec.analysis"):
        parent = node_at(path)["properties"]
        for field_path in field_paths(path) - {""}:
            assert field_path.removeprefix(".") in parent, (path, field_path)
