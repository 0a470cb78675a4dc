"""Event hooks between providers.

``sim.hooks.on(event, fn)`` registers ``fn(sim, **payload)``; ``sim.hooks.emit(event,
**payload)`` calls every handler in registration order (under the simulator lock). Events
emitted by the built-in providers are listed in README.md ("Hooks")."""

from __future__ import annotations

from collections import defaultdict


class Hooks:
    def __init__(self, sim):
        self.sim = sim
        self._handlers = defaultdict(list)

    def on(self, event: str, fn) -> None:
        self._handlers[event].append(fn)

    def emit(self, event: str, **payload) -> list:
        return [fn(self.sim, **payload) for fn in list(self._handlers.get(event, ()))]

    def has(self, event: str) -> bool:
        return bool(self._handlers.get(event))
