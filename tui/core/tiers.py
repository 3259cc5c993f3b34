"""The render quality tiers, named once. The CLI's --quality, the settings file, the app's
/export, the watcher and the engine's encoder table all take their names from here."""

from __future__ import annotations

HIGH, STANDARD, DRAFT = "high", "standard", "draft"
TIERS: tuple[str, ...] = (HIGH, STANDARD, DRAFT)  # best first: the order every list says them in
DEFAULT_TIER = HIGH  # the wire's default too (output.quality left out)


def tier_list(sep: str = ", ", last: str = " or ") -> str:
    """'high, standard or draft' (a message's), or with sep = last = " | " 'high | standard |
    draft' (a config example's comment)."""
    return sep.join(TIERS[:-1]) + last + TIERS[-1]


__all__ = ["DEFAULT_TIER", "DRAFT", "HIGH", "STANDARD", "TIERS", "tier_list"]
