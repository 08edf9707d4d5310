"""Annotations and labels people and the operator agree on, beside the spec and status."""

from __future__ import annotations

from airollout.api.crd import GROUP

# `kubectl annotate air NAME airollout.dev/action=resume|promote|abort` (or the CLI's
# resume/promote/abort) asks for an action; the operator acts on it once and removes both
# annotations. `action-by` names who asked, for the audit trail.
ACTION_ANNOTATION = f"{GROUP}/action"
ACTION_BY_ANNOTATION = f"{GROUP}/action-by"
ACTIONS = ("resume", "promote", "abort")

# On what the operator creates for a rollout (its canary, its decision log): the rollout's name.
ROLLOUT_LABEL = f"{GROUP}/rollout"
