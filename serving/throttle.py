"""Failed attempts per client address, against guessing tokens: the CSM page's sign-in and the
API's bearer check each keep one (`serving.uisession`, `serving.guard`).

A throttle answers how long a client must wait before its next attempt is looked at at all: a
check made during the wait would tell a guess apart from the right token by its answer.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class LoginThrottle:
    """Failed attempts per client, against guessing a token: after `free` failures in a row a
    client waits 1 s before its next try, then 2 s, 4 s, ... at most `max_seconds`; a try before
    then is refused without its token being looked at. `succeeded` (the sign-in's, not the
    API's) forgets the client's failures, as does an hour without a failure. At most
    `max_clients` clients are kept (the longest quiet goes first): a flood of addresses costs
    bounded memory. Each service worker keeps its own count."""

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
        with self._lock:
            got = self._failed.get(client)
            if got is None:
                return 0.0
            failures, last = got
            now = self.clock()
            if now - last > self.QUIET_SECONDS:
                del self._failed[client]
                return 0.0
            return max(0.0, last + self._delay(failures) - now)

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._failed.pop(client, (0, 0.0))[0]
            self._failed[client] = (failures + 1, self.clock())  # the newest goes last
            while len(self._failed) > self.max_clients:
                self._failed.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failed.pop(client, None)


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
