"""People: ``user.logged_in`` and ``user.logged_out`` (facts): who is logged in on which
device, so a reassigned task goes to the device where its picker is."""

from __future__ import annotations

from sqlalchemy import delete, insert

from floor_app.domain.events import UserLoggedIn, UserLoggedOut

from ..tables import UserSessionRow, table_of
from .batch import Batch, Handlers, Outcome

SESSIONS = table_of(UserSessionRow)


class People(Handlers):
    """Logins and logouts of one batch; the device's session is written in :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        #: device -> (user, role) logged in there, or None: nobody
        self.sessions: dict[str, tuple[str, str] | None] = {}

    def logged_in(self, ev: UserLoggedIn) -> Outcome:
        self.sessions[self.batch.device_id] = (ev.user, ev.role)
        return Outcome.applied()

    def logged_out(self, ev: UserLoggedOut) -> Outcome:
        self.sessions[self.batch.device_id] = None
        return Outcome.applied()

    def flush(self) -> None:
        conn, now = self.batch.conn, self.batch.now
        for device, session in self.sessions.items():
            conn.execute(delete(SESSIONS).where(SESSIONS.c.device_id == device))
            if session is not None:
                conn.execute(
                    insert(SESSIONS).values(
                        device_id=device, user_id=session[0], role=session[1], since=now
                    )
                )
