"""The broker channel every drwave Celery app uses (``shared.messaging.create_celery``) builds one Redis
client per connection pool instead of one per push, ack and pipeline, and messages still go through it."""

from __future__ import annotations

import redis
from support import unique

from shared.messaging import create_celery
from shared.settings import CommonSettings


def test_messages_go_through_a_channel_that_builds_one_redis_client_per_pool(servers, monkeypatch):
    app = create_celery("broker-channel-test", CommonSettings(redis_url=servers.redis_url))
    built: list[redis.Redis] = []
    real_init = redis.Redis.__init__
    monkeypatch.setattr(redis.Redis, "__init__", lambda self, *a, **k: built.append(self) or real_init(self, *a, **k))
    with app.connection_for_write() as connection, connection.SimpleQueue(unique("channel").replace(" ", "-")) as queue:
        for number in range(5):
            queue.put({"number": number})
        received = []
        for _ in range(5):
            message = queue.get(timeout=10)
            received.append(message.payload["number"])
            message.ack()
        used = len(built)
        connection.default_channel._disconnect_pools()  # what a fork or a lost connection does
        queue.put({"number": 5})
        after_new_pool = len(built)

    assert received == [0, 1, 2, 3, 4]
    assert used <= 2  # the event loop's own client and the shared one, not one per push and ack
    assert after_new_pool == used + 1  # a new pool gets its own client
