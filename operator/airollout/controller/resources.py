"""Names the operator and the people who drive it agree on: the resource and its annotations."""

from __future__ import annotations

GROUP = "airollout.dev"
VERSION = "v1alpha1"
PLURAL = "airollouts"
KIND = "AIRollout"
API_VERSION = f"{GROUP}/{VERSION}"

# `kubectl annotate air NAME airollout.dev/action=resume|promote|abort`; the operator acts on
# it once and removes it. `action-by` names who asked, for the audit trail.
ACTION_ANNOTATION = f"{GROUP}/action"
ACTION_BY_ANNOTATION = f"{GROUP}/action-by"
ACTIONS = ("resume", "promote", "abort")

DECISION_LOG_LABEL = f"{GROUP}/decision-log"
ROLLOUT_LABEL = f"{GROUP}/rollout"
