"""Names the operator and the people who drive it agree on: the resource and its labels."""

from __future__ import annotations

from airollout.api.annotations import (
    ACTION_ANNOTATION,
    ACTION_BY_ANNOTATION,
    ACTIONS,
    ROLLOUT_LABEL,
)
from airollout.api.crd import GROUP, KIND, PLURAL, VERSION

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
    "ROLLOUT_LABEL",
    "VERSION",
]
