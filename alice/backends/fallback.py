"""A public model's ordered chain of deployments: fall over on retryable failures, skip to a larger
context window on a context-length error, stop at once on a deterministic refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from alice.backends.deployment import Attempt, DeploymentRunner
from alice.backends.errors import ContextLength, Final, Retryable, UpstreamError

__all__ = ["AllFailed", "Chain"]

T = TypeVar("T")


class AllFailed(Exception):
    """Every deployment of the chain failed; `last` is the reason from the last one tried."""

    def __init__(self, last: UpstreamError | None, tried: list[str]) -> None:
        reason = last.message if last else "no deployment could take the request"
        super().__init__(f"all deployments failed ({', '.join(tried) or 'none tried'}); last: {reason}")
        self.last = last
        self.tried = tried


class Chain:
    def __init__(self, public_name: str, runners: list[DeploymentRunner]) -> None:
        self.public_name = public_name
        self.runners = runners

    async def run(
        self,
        call: Callable[[DeploymentRunner], Awaitable[T]],
        attempts: list[Attempt],
        skip: Callable[[DeploymentRunner], bool] | None = None,
    ) -> tuple[DeploymentRunner, T]:
        last: UpstreamError | None = None
        tried: list[str] = []
        too_small = 0  # a context window known to be too small
        failed_models: set[str] = set()
        for runner in self.runners:
            dep = runner.deployment
            if too_small and (dep.context_window <= too_small or dep.model in failed_models):
                continue
            if skip is not None and skip(runner):
                continue
            tried.append(runner.name)
            try:
                return runner, await call(runner)
            except ContextLength as exc:
                too_small = max(too_small, dep.context_window)
                failed_models.add(dep.model)
                last = exc
            except Final:
                raise
            except Retryable as exc:
                last = exc
        if isinstance(last, ContextLength):
            raise last  # no larger window anywhere: the client's request is too long
        raise AllFailed(last, tried)

    def snapshot(self) -> dict[str, Any]:
        return {"model": self.public_name, "deployments": [r.name for r in self.runners]}
