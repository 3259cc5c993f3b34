"""What a render costs, said before it starts, and a question when it is a large share of the
credits left (the config's `ask_above`). Priced by the local engine's rule (tui/core/protocol.py
`render_cost`) wherever that engine runs; on the cloud, whose price is its own, nothing is said
or asked."""

from __future__ import annotations

from tui.app.base import AppPart
from tui.app.messages import CreditsReady, StatusLine
from widgets.confirm import Confirm
from widgets.credits import Credits

CHEAPER = "a shorter or smaller clip costs less: 1 credit a second, 2 at 4K; a draft is free"


def credits_word(n: int) -> str:
    return f"{n} credit{'' if n == 1 else 's'}"


class Spending(AppPart):
    ask_above: float  # config.toml: ask before spending more than this share of the balance
    _cost_seen: int | None  # the last cost said or passed over after a turn

    async def cost_of(self, draft: dict, quality: str) -> int | None:
        """What rendering `draft` at `quality` costs, when the backend's price is known: our own
        engine's, wherever it runs (its /health says; its draft tier is free)."""
        from tui.core.protocol import draft_cost

        if self.client is None or not await self.backend.own_engine():
            return None
        return draft_cost(draft, quality)

    async def warn_cost(self, draft: dict, before: int | None) -> int | None:
        """After a turn: the export's cost when it changed to a large share of the credits
        (a 60 s 4K clip), said before anyone asks for the render. Returns the cost."""
        cost = await self.cost_of(draft, self.export_quality)
        credits = self._pane(Credits)
        available = credits.available if credits is not None else None
        if cost is None or cost == before or available is None or not self._large(cost, available):
            return cost
        said = f"Exporting this clip will cost {credits_word(cost)}"
        if cost > available:
            self.post_message(StatusLine(f"{said}; you have {available}", hint=CHEAPER))
        else:
            self.post_message(StatusLine(f"{said} of your {available}"))
        return cost

    def _large(self, cost: int, available: int) -> bool:
        return cost > available * self.ask_above

    async def may_spend(self, cost: int | None, what: str, tell: bool = False) -> bool:
        """Before a render (or a batch of them): the balance read again (with `tell`, the cost
        said against it); False when it is not enough (said, with what costs less) or when the
        person says no to a large share."""
        from tui.client import ClientError

        assert self.client is not None
        if not cost:  # unpriced (the cloud) or free (a draft): nothing to say or ask
            return True
        c = await self.backend.credits()
        self.post_message(CreditsReady(c.available, c.frozen, c.total))
        available = c.available
        if tell:
            self.post_message(
                StatusLine(
                    f"{what.capitalize()} will cost {credits_word(cost)}; you have {available}"
                )
            )
        if cost > available > 0:  # none at all: the backend's own "out of credits" says so
            raise ClientError(
                f"not enough credits: {what} costs {credits_word(cost)}, you have {available}",
                hint=CHEAPER,
            )
        if cost > available or not self._large(cost, available):
            return True
        yes = await self.push_screen(
            Confirm(
                f"Spend {credits_word(cost)} of your {available} on {what}?",
                f"more than {self.ask_above:.0%} of your credits (ask_above in config.toml)",
            ),
            wait_for_dismiss=True,
        )
        if not yes:
            self.post_message(StatusLine(f"Not rendered: {what} (nothing spent)"))
        return bool(yes)
