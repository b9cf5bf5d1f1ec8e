"""Fixtures of the job tests: ``redis_server`` — a redis-server of the test's own, which a
fault test may stop and start again (``tests.servers.RedisServer``)."""

from tests.servers import redis_server  # noqa: F401
