"""Query templates: `{{ workload }}` and friends filled in before a query reaches Prometheus.

Every `{{ ... }}` is a variable, whatever is inside: PromQL itself never writes `{{`, so an
unknown or malformed one is a mistake to report, not text to pass through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence

from airollout.core.resource.spec import MetricSpec
from airollout.core.resource.validation import ALL_QUERIES, FieldError

# podTemplateHash: an Argo Rollout's rollouts-pod-template-hash of the version read, set
# only for the analysis endpoint's windows (web/).
VARIABLES = ("namespace", "workload", "version", "window", "rollout", "podTemplateHash")

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class TemplateError(ValueError):
    """A query names variables that do not exist or have no value; `names` lists them."""

    def __init__(self, names: list[str], unset: bool = False) -> None:
        self.names = names
        quoted = ", ".join(repr(name) for name in names)
        if unset:
            reason = f"template variable {quoted} has no value here"
        else:
            reason = f"unknown template variable {quoted} (known: {', '.join(VARIABLES)})"
        super().__init__(reason)


def _names(query: str) -> list[str]:
    return [match.group(1).strip() for match in _PLACEHOLDER.finditer(query)]


def check(query: str) -> list[str]:
    """The names in `query` that are not template variables, each once, in order of use."""
    unknown = [name for name in _names(query) if name not in VARIABLES]
    return list(dict.fromkeys(unknown))


def query_errors(
    metrics: Sequence[MetricSpec], path: str = "spec.analysis.metrics"
) -> Iterator[FieldError]:
    """One error per query field that names an unknown variable, for a Failed rollout."""
    for index, metric in enumerate(metrics):
        wire = metric.model_dump(by_alias=True)
        for field in ALL_QUERIES:
            unknown = check(wire[field] or "")
            if unknown:
                yield FieldError(f"{path}[{index}].{field}", str(TemplateError(unknown)))


def render(query: str, variables: Mapping[str, str]) -> str:
    """`query` with every `{{ name }}` replaced by `variables[name]`.

    Values go in as they are, unquoted and unescaped: they are Kubernetes object names and
    namespaces (DNS labels, which cannot hold a quote or a brace), the version name and a
    duration the operator formats itself, so none can break out of a PromQL string.
    """
    unknown = check(query)
    if unknown:
        raise TemplateError(unknown)
    unset = [name for name in dict.fromkeys(_names(query)) if name not in variables]
    if unset:
        raise TemplateError(unset, unset=True)
    return _PLACEHOLDER.sub(lambda match: variables[match.group(1).strip()], query)


def prometheus_duration(seconds: float) -> str:
    """`seconds` as a PromQL range: whole seconds as `60s`, anything finer in milliseconds.

    PromQL ranges take no fractions, and a range must be positive, so the shortest is 1ms.
    """
    milliseconds = max(1, round(seconds * 1000)) if math.isfinite(seconds) else 1
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    return f"{milliseconds}ms"
