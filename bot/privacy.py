"""Who may see a person's phone number: personal data goes no further than the service needs it.

A household's phone is for its own butlers, the butlers of the owner's team as the roster has it now,
and for the estate's managers. The check is made as each text is rendered for its reader (templates call
`may_see_phone(me, person)`), so however a card reaches someone (the escalation ladder, a duty hand-over,
a return visit given to the butler who once had the ticket but has since moved to another team, an owner
who moved to another team while the ticket stayed with the old one), a number never reaches the wrong
reader.
"""

from __future__ import annotations

from bot.model import Person, Role


def may_see_phone(reader: Person, household: Person) -> bool:
    """Whether `reader` may be shown the phone of `household` (an owner or a resident)."""
    if reader.estate_id != household.estate_id or not reader.active:
        return False
    if reader.role == Role.MANAGER:
        return True
    return reader.role == Role.BUTLER and reader.team_id is not None and reader.team_id == household.team_id
