"""What a mutating service call changed, so each view refreshes only if it cares (OpChanges)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changed:
    customers: frozenset[int] = field(default_factory=frozenset)
    customer_list: bool = False  # rows added/removed/re-sorted, not only edited in place
    tags: bool = False
    settings: frozenset[str] = field(default_factory=frozenset)
    touchpoints: bool = False
    interactions: bool = False
    reminders: bool = False  # the delivered-reminder list or its badge count
    greetings: bool = False  # the greeting template library
    feedback: bool = False  # feedback items, complaints, ideas or themes

    def __or__(self, other: Changed) -> Changed:
        return Changed(
            customers=self.customers | other.customers,
            customer_list=self.customer_list or other.customer_list,
            tags=self.tags or other.tags,
            settings=self.settings | other.settings,
            touchpoints=self.touchpoints or other.touchpoints,
            interactions=self.interactions or other.interactions,
            reminders=self.reminders or other.reminders,
            greetings=self.greetings or other.greetings,
            feedback=self.feedback or other.feedback,
        )

    @property
    def is_empty(self) -> bool:
        return self == Changed()
