"""Failed attempts per client address, against guessing tokens: the CSM page's sign-in and the
API's bearer check each keep one (`serving.uisession`, `serving.guard`).

A throttle answers how long a client must wait before its next attempt is looked at at all: a
check made during the wait would tell a guess apart from the right token by its answer.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from serving.store import Store

logger = logging.getLogger("escrisk.service")
T = TypeVar("T")


class LoginThrottle:
    """Failed attempts per client, against guessing a token: after `free` failures in a row a
    client waits 1 s before its next try, then 2 s, 4 s, ... at most `max_seconds`; a try before
    then is refused without its token being looked at. An hour without a failure forgets the
    client's failures; a success forgets none (a guesser holding one right token, or someone
    behind its NAT, would wipe out its count). At most
    `max_clients` clients are kept (the longest quiet goes first): a flood of addresses costs
    bounded memory. This one counts in its process's memory: `SharedThrottle` for every worker
    at once."""

    QUIET_SECONDS = 3600.0

    def __init__(
        self,
        free: int,
        max_seconds: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.max_seconds = max_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._failed: OrderedDict[str, tuple[int, float]] = OrderedDict()  # -> (in a row, last)

    def _delay(self, failures: int) -> float:
        if failures < self.free or self.max_seconds <= 0:
            return 0.0
        return min(self.max_seconds, 2.0 ** min(failures - self.free, 64))

    def wait(self, client: str) -> float:
        """Seconds before `client` may try again; 0 when it may now."""
        got = self._counted(client)
        return 0.0 if got is None else self._wait_for(*got)

    def _counted(self, client: str) -> tuple[int, float] | None:
        """(failures in a row, time of the last) counted here; None without any in the hour."""
        with self._lock:
            got = self._failed.get(client)
            if got is not None and self.clock() - got[1] > self.QUIET_SECONDS:
                del self._failed[client]
                return None
            return got

    def _wait_for(self, failures: int, last: float) -> float:
        return max(0.0, last + self._delay(failures) - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._failed.pop(client, (0, 0.0))[0]
            self._failed[client] = (failures + 1, self.clock())  # the newest goes last
            while len(self._failed) > self.max_clients:
                self._failed.popitem(last=False)


class SharedThrottle(LoginThrottle):
    """`LoginThrottle` counted in the state database (`Store.auth_failures`), which every worker
    of the service uses: with two workers a guesser's tries alternated between two counts of
    its own (401, 429, 401, ...), each worker letting half of them be checked; replicas that
    share the database share the count too. While the database cannot be used (none yet, down,
    its tables not brought up to date) the worker counts in its memory, and tries the database
    again a minute later: the check never waits for a database it just found down. A failure
    another writer keeps out (the daily job storing a day, on SQLite) is counted in memory at
    once, and the database is used again at the next; the wait is that of both counts together."""

    RETRY_SECONDS = 60.0
    PRUNE_SECONDS = 60.0

    def __init__(
        self,
        scope: str,
        store: Callable[[], Store],
        free: int,
        max_seconds: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.time,  # one clock for every process
    ) -> None:
        super().__init__(free, max_seconds, max_clients, clock)
        self.scope = scope
        self.store = store
        self._down_until = -math.inf
        self._pruned = -math.inf

    def _shared(self, use: Callable[[Store], T]) -> tuple[bool, T | None]:
        """(True, what `use` gave) with the database; (False, None) without it."""
        if self.clock() < self._down_until:
            return False, None
        try:
            return True, use(self.store())
        except Exception as exc:  # any database trouble: this worker's count meanwhile
            from serving.store import locked

            if locked(exc):  # busy, not down: this one counted here, the next there again
                return False, None
            if self._down_until == -math.inf:
                logger.warning(
                    "wrong tokens (%s) counted by each worker for itself: the state database "
                    "cannot be used (%s)",
                    self.scope,
                    type(exc).__name__,
                )
            self._down_until = self.clock() + self.RETRY_SECONDS
            return False, None

    def wait(self, client: str) -> float:
        key = client[:64]
        ok, got = self._shared(lambda s: s.auth_failures(self.scope, key))
        if not ok or got is None or self.clock() - got[1] > self.QUIET_SECONDS:
            got = None
        own = self._counted(client)  # failures counted here while the database was not used
        counts = [c for c in (got, own) if c is not None]
        if not counts:
            return 0.0
        return self._wait_for(sum(f for f, _ in counts), max(t for _, t in counts))

    def failed(self, client: str) -> None:
        key, now = client[:64], self.clock()

        def count(store: Store) -> None:
            store.auth_failed(self.scope, key, now, self.QUIET_SECONDS)
            if now - self._pruned > self.PRUNE_SECONDS:
                self._pruned = now
                store.auth_prune(now - self.QUIET_SECONDS, self.max_clients)

        if not self._shared(count)[0]:
            super().failed(client)


def client_key(host: str | None) -> str:
    """Whom the throttle counts: the client's address (the proxy's `X-Forwarded-For` where the
    service trusts it, FORWARDED_ALLOW_IPS), an IPv6 one by its /64 network, which one host
    commonly has whole."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or ""
    if address.version == 6 and address.ipv4_mapped is not None:  # ::ffff:192.0.2.1
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
