"""The shared `WindowStore`: every check is one Lua script, so it runs atomically in Redis and N
replicas enforce one limit, not N (the replicas-multiply-the-limit bug of peers).

Time comes from Redis (`TIME`), not from the replicas, so their clocks need not agree.

Keys per subject (a key id):   <prefix>rl:<subject>:log  zset  reservation id → admit time (ms)
                               <prefix>rl:<subject>:amt  hash  reservation id → booked tokens
                               <prefix>rl:<subject>:sum  int   tokens booked inside the window
Daily counter per tenant:      <prefix>day:<tenant>:<day>    int (expires after two days)
Per deployment:                <prefix>dep:<name>        zset  call id → call time (ms)
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from alice.state.windows import ADMITTED, Verdict, day_number, seconds_to_day_end

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisWindows"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: log, amounts, sum, day   ARGV: rid, window_ms, rpm, tpm, tokens, daily
_ADMIT = _NOW + """
local rid, window = ARGV[1], tonumber(ARGV[2])
local rpm, tpm, tokens, daily = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local windowed = rpm > 0 or tpm > 0
if windowed then
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local gone = 0
  for i = 1, #old, 500 do
    local batch = {unpack(old, i, math.min(i + 499, #old))}
    for _, a in ipairs(redis.call('HMGET', KEYS[2], unpack(batch))) do
      if a then gone = gone + tonumber(a) end
    end
    redis.call('HDEL', KEYS[2], unpack(batch))
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
    redis.call('DECRBY', KEYS[3], gone)
  end
  if rpm > 0 and redis.call('ZCARD', KEYS[1]) + 1 > rpm then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, 'rpm', tonumber(first[2]) + window - now}
  end
  if tpm > 0 then
    local used = tonumber(redis.call('GET', KEYS[3]) or '0')
    if used + tokens > tpm then
      local need, freed = used + tokens - tpm, 0
      local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
      for i = 1, #entries, 2 do
        freed = freed + tonumber(redis.call('HGET', KEYS[2], entries[i]) or '0')
        if freed >= need then return {0, 'tpm', tonumber(entries[i + 1]) + window - now} end
      end
      return {0, 'tpm', window}
    end
  end
end
if daily > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') + tokens > daily then
  return {0, 'daily', 0}
end
if windowed then
  redis.call('ZADD', KEYS[1], now, rid)
  redis.call('HSET', KEYS[2], rid, tokens)
  redis.call('INCRBY', KEYS[3], tokens)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], window * 2) end
end
if daily > 0 then
  redis.call('INCRBY', KEYS[4], tokens)
  redis.call('EXPIRE', KEYS[4], 172800)
end
return {1, '', 0}
"""

# KEYS: amounts, sum, day   ARGV: rid, delta, use_day
_RECONCILE = """
local delta = tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], delta)
  redis.call('INCRBY', KEYS[2], delta)
end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  if redis.call('INCRBY', KEYS[3], delta) < 0 then redis.call('SET', KEYS[3], 0, 'KEEPTTL') end
end
return 1
"""

# KEYS: one zset per deployment, in chain order   ARGV: rid, window_ms, rpm per deployment …
_TAKE = _NOW + """
local rid, window = ARGV[1], tonumber(ARGV[2])
local soonest = window
for i, k in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
  if redis.call('ZCARD', k) < tonumber(ARGV[2 + i]) then
    redis.call('ZADD', k, now, rid)
    redis.call('PEXPIRE', k, window * 2)
    return {i - 1, 0}
  end
  local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  soonest = math.min(soonest, tonumber(first[2]) + window - now)
end
return {-1, soonest}
"""

# KEYS: the deployment's zset   ARGV: id prefix, n, window_ms
_RECORD = _NOW + """
for i = 1, tonumber(ARGV[2]) do redis.call('ZADD', KEYS[1], now, ARGV[1] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""


class RedisWindows:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._admit = redis.register_script(_ADMIT)
        self._reconcile = redis.register_script(_RECONCILE)
        self._take = redis.register_script(_TAKE)
        self._record = redis.register_script(_RECORD)

    def _keys(self, subject: str) -> list[str]:
        base = f"{self.prefix}rl:{subject}:"
        return [base + "log", base + "amt", base + "sum"]

    def _day(self, daily_subject: str | None) -> str:
        return f"{self.prefix}day:{daily_subject or '-'}:{day_number()}"

    def _dep(self, name: str) -> str:
        return f"{self.prefix}dep:{name}"

    async def admit(self, rid: str, subject: str, *, window_s: float, rpm: int | None, tpm: int | None,
                    tokens: int, daily_subject: str | None, daily: int | None) -> Verdict:
        daily = daily if daily_subject else None
        ok, reason, wait_ms = await self._admit(
            keys=[*self._keys(subject), self._day(daily_subject)],
            args=[rid, int(window_s * 1000), rpm or 0, tpm or 0, tokens, daily or 0],
        )
        if ok:
            return ADMITTED
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        retry = seconds_to_day_end() if reason == "daily" else max(0.0, int(wait_ms) / 1000)
        return Verdict(False, reason, retry)

    async def reconcile(self, rid: str, subject: str, daily_subject: str | None, delta: int) -> None:
        if delta:
            _, amounts, total = self._keys(subject)
            await self._reconcile(keys=[amounts, total, self._day(daily_subject)],
                                  args=[rid, delta, "1" if daily_subject else "0"])

    async def take_deployment(self, rid: str, budgets: list[tuple[str, int]], window_s: float) -> tuple[int, float]:
        index, wait_ms = await self._take(keys=[self._dep(n) for n, _ in budgets],
                                          args=[rid, int(window_s * 1000), *(r for _, r in budgets)])
        return int(index), max(0.0, int(wait_ms) / 1000)

    async def release_deployment(self, rid: str, name: str) -> None:
        await self.redis.zrem(self._dep(name), rid)

    async def record_deployment(self, name: str, n: int, window_s: float) -> None:
        if n > 0:
            await self._record(keys=[self._dep(name)], args=[uuid.uuid4().hex, n, int(window_s * 1000)])

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
