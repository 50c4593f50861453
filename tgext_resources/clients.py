"""Clients of the cache servers, made to fail fast: a timeout on every connect and answer."""
import time


def redis_client(url, timeout):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: redis-py >= 6 retries three times by default, with backoff, so a hung
    # server cost 2.5 s instead of the timeout of 0.5 s (and again for each operation).
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


def memcached_client(url, timeout, retry):
    import memcache

    # python-memcached skips a server that failed for dead_retry seconds, as the region does
    # (see memcached_dead); with 0 its failures would leave no trace to see.
    return memcache.Client(url.split(";"), socket_timeout=timeout, dead_retry=retry or timeout)


def memcached_dead(client):
    """``(dead, count)``: the servers python-memcached marked dead, and how many it has.  It
    never raises for a server it cannot reach: it answers "not found" and marks it."""
    now = time.time()
    servers = getattr(client, "servers", ())
    return [str(server) for server in servers if getattr(server, "deaduntil", 0) > now], len(servers)
