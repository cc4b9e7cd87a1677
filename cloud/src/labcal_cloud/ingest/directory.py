"""Which tenant each station belongs to, cached, reloaded on a miss at most every few seconds."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["StationDirectory"]


class StationDirectory:
    """``tenant_of(station)`` from a cached map; ``load`` may raise StorageUnavailableError."""

    def __init__(
        self,
        load: Callable[[], dict[str, str]],
        clock: Callable[[], float],
        *,
        refresh_s: float = 2.0,
    ) -> None:
        self._load = load
        self._clock = clock
        self._refresh_s = refresh_s
        self._map: dict[str, str] | None = None
        self._loaded_at = 0.0

    def reload(self) -> None:
        self._map = self._load()
        self._loaded_at = self._clock()

    def tenant_of(self, station: str) -> str | None:
        if self._map is None:
            self.reload()
        assert self._map is not None
        tenant = self._map.get(station)
        if tenant is None and self._clock() - self._loaded_at >= self._refresh_s:
            self.reload()
            tenant = self._map.get(station)
        return tenant
