"""Tier choice (tool / micro / planner / deep), the micro share quota and task profiling."""

from alice.route.quota import MicroQuota
from alice.route.router import MODEL_TIERS, RouteDecision, Router, RoutingSettings, RoutingSettingsError
from alice.route.task import TaskProfile, profile_task, split_actions

__all__ = [
    "MODEL_TIERS",
    "MicroQuota",
    "RouteDecision",
    "Router",
    "RoutingSettings",
    "RoutingSettingsError",
    "TaskProfile",
    "profile_task",
    "split_actions",
]
