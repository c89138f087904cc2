"""Telemetry: Prometheus metrics, the request log, SLOs and error budgets, events, feedback.

`wiring.install(gw)` plugs it into the gateway; `core.Telemetry` is the service; the HTTP
surfaces are in alice/api/monitoring.py and the page in alice/api/dashboard/.
"""

from alice.telemetry.core import Telemetry
from alice.telemetry.events import Event, EventBus
from alice.telemetry.settings import TelemetrySettings, parse_settings

__all__ = ["Event", "EventBus", "Telemetry", "TelemetrySettings", "parse_settings"]
