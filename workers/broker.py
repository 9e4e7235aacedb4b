"""The Dramatiq broker: Redis when DUBAN_REDIS_URL is set, an in-process one otherwise."""
from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def make_broker(settings) -> dramatiq.Broker:
    broker = RedisBroker(url=settings.redis_url) if settings.redis_url else StubBroker()
    dramatiq.set_broker(broker)
    return broker


def ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False
