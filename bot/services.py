"""The domain services, assembled in one place: what the handlers call and what the clocks fire.

Nothing here knows Telegram; tests build the same set over a database and a manual clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.announcements import REPORT_CLOCK, Announcements
from bot.classify import Classifier
from bot.clock import Clock
from bot.commitments import Commitments
from bot.config import Config
from bot.digest import DIGEST_CLOCK, Digest
from bot.duty import Duty
from bot.escalation import Escalation
from bot.export import ManagersExport
from bot.fees import FEE_CLOCKS, FeeReminders
from bot.flood import RELEASE_CLOCK, FloodControl
from bot.notify import Notifier
from bot.reachability import Reachability
from bot.reception import Reception
from bot.return_visits import ReturnVisits
from bot.service_orders import ServiceOrders
from bot.sla import ClockKind
from bot.texts import Texts
from bot.ticket_log import TicketLog
from bot.tickets import TicketDesk
from bot.timekeeper import OnDue, OnEstateDue
from storage.database import Database


@dataclass
class Services:
    config: Config
    clock: Clock
    db: Database
    texts: Texts
    reception: Reception
    desk: TicketDesk
    escalation: Escalation
    commitments: Commitments
    return_visits: ReturnVisits
    duty: Duty
    digest: Digest
    ticket_log: TicketLog
    export: ManagersExport
    flood: FloodControl
    reachability: Reachability
    announcements: Announcements
    fees: FeeReminders
    service_orders: ServiceOrders

    @classmethod
    def assemble(cls, db: Database, clock: Clock, config: Config) -> Services:
        levels = config.sla
        texts = Texts(config.zone, levels, currency=config.currency)
        notifier = Notifier(texts, clock)
        commitments = Commitments(db, clock, notifier, levels, config.zone)
        return_visits = ReturnVisits(db, clock, notifier, levels)
        escalation = Escalation(clock, notifier, levels)
        classifier = Classifier.from_file(config.classification_rules)
        flood = FloodControl(clock, notifier, classifier, config.limits)
        desk = TicketDesk(db, clock, notifier, classifier, levels, commitments, return_visits, flood)
        return cls(
            config=config,
            clock=clock,
            db=db,
            texts=texts,
            reception=Reception(db, clock, notifier),
            desk=desk,
            escalation=escalation,
            commitments=commitments,
            return_visits=return_visits,
            duty=Duty(db, clock, notifier, escalation),
            digest=Digest(db, clock, notifier, levels, config.targets, config.digest_at),
            ticket_log=TicketLog(db, notifier),
            export=ManagersExport(db, clock, notifier),
            flood=flood,
            reachability=Reachability(clock, notifier),
            announcements=Announcements(db, clock, notifier),
            fees=FeeReminders(db, clock, notifier, config.fees),
            service_orders=ServiceOrders(db, clock, notifier, desk, config.zone),
        )

    def on_estate_due(self) -> dict[str, OnEstateDue]:
        """What each clock of a whole estate does when it comes due."""
        return {
            DIGEST_CLOCK: self.digest.send_daily,
            RELEASE_CLOCK: lambda conn, due: self.flood.release(conn, due, self.desk.pass_on_held),
            REPORT_CLOCK: self.announcements.report,  # until every delivery settled, then the figures
            **{kind: self.fees.send_stage for kind in FEE_CLOCKS},  # notice, reminder, final
        }

    def on_due(self) -> dict[str, OnDue]:
        """What each service clock does when it comes due."""
        return {
            ClockKind.ACCEPT: self.escalation.accept_lapsed,
            ClockKind.REMIND: self.commitments.remind,
            ClockKind.LAPSE: self.commitments.lapse,
            ClockKind.CONFIRM: self.desk.close_unconfirmed,
            ClockKind.SURVEY_REMINDER: self.return_visits.ask_again,
            ClockKind.SURVEY_GIVE_UP: self.return_visits.give_up,
        }
