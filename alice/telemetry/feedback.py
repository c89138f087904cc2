"""Feedback on answers: `POST /api/feedback {request_id, rating, comment?}`.

`rating` is 1 (good), 0 (neutral) or -1 (bad); one rating per request (a second one is refused
with 409). The request's route, intent and tool come from a bounded memory of recent requests,
or from the request log for older ones. Ratings feed per-route and per-intent quality and the
tool-precision SLO (good / (good + bad) over rated requests that a tool answered).
"""

from __future__ import annotations

import time
from typing import Any

from alice.api.errors import ApiError, BadRequest, NotFound
from alice.state.requestlog_store import RequestLogStore
from alice.telemetry.metrics import Metrics
from alice.telemetry.windows import Live

__all__ = ["Conflict", "FeedbackService", "RecentRequests"]

VERDICTS = {1: "good", 0: "neutral", -1: "bad"}


class Conflict(ApiError):
    status = 409
    type_ = "invalid_request_error"
    code = "feedback_exists"


class RecentRequests:
    """request id → (route, intent, tool, tenant) for the last `cap` requests (insertion order)."""

    def __init__(self, cap: int = 50_000) -> None:
        self.cap = cap
        self._d: dict[str, tuple[str, str, str, str]] = {}

    def remember(self, request_id: str, route: str, intent: str, tool: str, tenant: str) -> None:
        d = self._d
        d[request_id] = (route, intent, tool, tenant)
        if len(d) > self.cap:
            del d[next(iter(d))]

    def get(self, request_id: str) -> tuple[str, str, str, str] | None:
        return self._d.get(request_id)


class FeedbackService:
    def __init__(self, recent: RecentRequests, live: Live, metrics: Metrics | None,
                 store: RequestLogStore | None) -> None:
        self.recent = recent
        self.live = live
        self.metrics = metrics
        self.store = store
        self._rated: dict[str, None] = {}  # for duplicate checks when there is no store

    @staticmethod
    def validate(body: Any) -> tuple[str, int, str | None]:
        if not isinstance(body, dict):
            raise BadRequest("expected a JSON object {request_id, rating, comment?}")
        rid, rating, comment = body.get("request_id"), body.get("rating"), body.get("comment")
        if not isinstance(rid, str) or not 0 < len(rid) <= 128:
            raise BadRequest("request_id must be the x-request-id of an answer (1-128 characters)",
                             param="request_id")
        if isinstance(rating, bool) or rating not in VERDICTS:
            raise BadRequest("rating must be 1 (good), 0 (neutral) or -1 (bad)", param="rating")
        if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
            raise BadRequest("comment must be a string of at most 2000 characters", param="comment")
        return rid, int(rating), comment

    async def submit(self, body: Any) -> dict[str, Any]:
        rid, rating, comment = self.validate(body)
        known = self.recent.get(rid)
        if known is None and self.store is not None:
            row = await self.store.find(rid)
            if row is not None:
                known = (row["route"] or "", row["intent"] or "", row["tool"] or "", row["tenant"] or "")
        if known is None:
            raise NotFound(f"no request with id {rid!r} is known", param="request_id", code="request_not_found")
        route, intent, tool, tenant = known
        if self.store is not None:
            fresh = await self.store.write_feedback((rid, time.time(), rating, comment, route, intent, tool, tenant))
        else:
            fresh = rid not in self._rated
            self._rated[rid] = None
            if len(self._rated) > self.recent.cap:
                del self._rated[next(iter(self._rated))]
        if not fresh:
            raise Conflict(f"request {rid!r} already has a rating")
        self.live.add_feedback(route, intent, tool, rating)
        if self.metrics is not None:
            self.metrics.count_feedback(route, VERDICTS[rating])
        return {"request_id": rid, "rating": rating, "route": route, "intent": intent or None, "tool": tool or None}
