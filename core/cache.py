"""The cache backend: django-redis, failing open when the cache is down.

The cache is a separate, disposable Redis (allkeys-lru). With IGNORE_EXCEPTIONS
django-redis turns an outage into cache misses, except for `add`, which then
answers None, meaning "somebody else holds this key". allauth's rate limits
take a short lock with `cache.add` and, without it, refuse the request (429),
so a cache outage would lock everybody out of signing in. Here `add` fails
open instead: the caller proceeds as if the key were free, as a miss would.
"""

import logging

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

log = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    def add(self, *args, **kwargs):
        try:
            return self.client.add(*args, **kwargs)
        except ConnectionInterrupted as exc:
            if not self._ignore_exceptions:
                raise exc.__cause__ from None
            log.warning("cache unreachable, add() fails open: %s", exc.__cause__)
            return True
