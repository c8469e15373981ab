"""Drive a model through its action catalogue, one named action at a time.

Every step goes through ``KubeModel.next_state``, which refuses an action
whose guard does not enable it, so a test that takes a step also asserts
that the step is enabled.
"""

from __future__ import annotations

from collections.abc import Iterable

from spec import catalogue
from spec.component import Action, Param
from spec.model import KubeModel
from spec.objects import Pod
from spec.scenarios import Scenario
from spec.state import State
from spec.variants import DEFAULT, Variant


class Driver:
    """A model and a current state that tests advance step by step."""

    def __init__(self, scenario: Scenario, variant: Variant = DEFAULT) -> None:
        self.model = KubeModel(scenario, variant)
        self.state: State = self.model.initial_states()[0]
        self.trace: list[Action] = []

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        return self.model.ctx

    def action(self, component: str, name: str, /, **params: Param) -> Action:
        """The Action value with its parameters in declared order."""
        _, adef = catalogue.definition(self.ctx, component, name)
        return Action(component, name, tuple((p, params[p]) for p in adef.params))

    def enabled(self, component: str | None = None, name: str | None = None) -> list[Action]:
        """The enabled actions, optionally of one component and/or one action name."""
        return [a for a in self.model.actions(self.state) if (component is None or a.component == component) and (name is None or a.name == name)]

    def can(self, component: str, name: str, /, **params: Param) -> bool:
        """The action is enabled now."""
        return self.action(component, name, **params) in self.model.actions(self.state)

    def do(self, component: str, name: str, /, **params: Param) -> Driver:
        """Take one action (it must be enabled)."""
        action = self.action(component, name, **params)
        self.state = self.model.next_state(self.state, action)
        self.trace.append(action)
        return self

    def take(self, action: Action) -> Driver:
        """Take an Action value (it must be enabled)."""
        self.state = self.model.next_state(self.state, action)
        self.trace.append(action)
        return self

    def deliver(self, component: str, kinds: Iterable[str] | None = None) -> Driver:
        """Deliver every pending watch event of ``component`` (of ``kinds``, if given)."""
        wanted = None if kinds is None else set(kinds)
        while True:
            pending = [a for a in self.enabled(component, "WatchDeliver") if wanted is None or a.param("kind") in wanted]
            if not pending:
                return self
            self.take(pending[0])

    def settle(self, skip: Iterable[str] = (), max_steps: int = 5000) -> Driver:
        """Run cluster components (not the environment) until none has work, first enabled first.

        Components named in ``skip`` (exact instance names or action names) do not act.
        """
        skipped = set(skip)
        for _ in range(max_steps):
            steps = [
                (a, s)
                for a, s in catalogue.successors(self.ctx, self.state, include_environment=False)
                if a.component not in skipped and a.name not in skipped
            ]
            if not steps:
                return self
            action, self.state = steps[0]
            self.trace.append(action)
        raise AssertionError(f"did not settle in {max_steps} steps")

    def tick(self, n: int = 1) -> Driver:
        """Advance the clock ``n`` ticks (each Tick must be enabled)."""
        for _ in range(n):
            self.do("clock", "Tick")
        return self

    # ---------------------------------------------------------------- reading the state

    def pods(self, prefix: str = "") -> list[Pod]:
        """Pods in the store whose name starts with ``prefix``, by key."""
        return [p for p in self.state.api.objects.pods.values() if p.meta.name.startswith(prefix)]

    def pod(self, name: str) -> Pod:
        """The one pod in the store whose name is ``name`` or starts with it."""
        found = [p for p in self.pods() if p.meta.name == name] or self.pods(name)
        assert len(found) == 1, f"expected one pod {name!r}, found {[p.meta.name for p in found]}"
        return found[0]

    def memory(self, instance: str) -> object:
        """The in-memory state of a component instance."""
        return self.state.views[instance].memory
