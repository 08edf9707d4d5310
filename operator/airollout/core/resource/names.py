"""Names people and the operator agree on: the resource, its annotations and its labels."""

from __future__ import annotations

from airollout.core.resource.crd import GROUP, KIND, PLURAL, VERSION

# `kubectl annotate air NAME airollout.dev/action=resume|promote|abort|approve|reject` (or
# the CLI's commands of those names) asks for an action; the operator acts on it once and
# removes both annotations. `action-by` names who asked, for the audit trail.
ACTION_ANNOTATION = f"{GROUP}/action"
ACTION_BY_ANNOTATION = f"{GROUP}/action-by"
ACTIONS = ("resume", "promote", "abort", "approve", "reject")
# Answers to a review: only a rollout in AwaitingApproval takes them.
REVIEW_ACTIONS = ("approve", "reject")

# On what the operator creates for a rollout (its canary, its decision log): the rollout's name.
ROLLOUT_LABEL = f"{GROUP}/rollout"
# On the canary's pods (its Deployment's template): `canary`; stable's pods lack it.
VERSION_LABEL = f"{GROUP}/version"

API_VERSION = f"{GROUP}/{VERSION}"
DECISION_LOG_LABEL = f"{GROUP}/decision-log"

__all__ = [
    "ACTIONS",
    "ACTION_ANNOTATION",
    "ACTION_BY_ANNOTATION",
    "API_VERSION",
    "DECISION_LOG_LABEL",
    "GROUP",
    "KIND",
    "PLURAL",
    "REVIEW_ACTIONS",
    "ROLLOUT_LABEL",
    "VERSION",
    "VERSION_LABEL",
]
