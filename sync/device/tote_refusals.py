"""What a device does when the hub refuses one of its ``tote.assigned`` claims.

The hub refuses a tote that is not one of the site's or that still holds another order not
packed yet. The device then takes the tote off the task's position (and, when the hub
named the order it holds, notes that, so the tote is not offered as empty again until
the hub says it is free)
(:meth:`~floor_app.services.picking.PickingService.tote_refused`): the picker scans another
tote for it, and puts confirmed into the refused tote are confirmed into the new one. A
refusal delivered twice changes nothing the second time.
"""

from __future__ import annotations

import json

from floor_app.domain.events import ToteAssigned
from floor_app.services.picking import PickingService
from floor_app.store import Store
from floor_app.store.tables import OutboxRow


def take_back_refused_tote(store: Store, seq: int, holder: str | None = None) -> str:
    """Undo this device's tote claim ``seq`` the hub refused; what was done ("" if
    nothing was to be done). ``holder``: the order the hub says the tote still holds."""
    with store.unit_of_work() as uow:
        row = uow.session.get(OutboxRow, seq)
        if row is None or row.type != ToteAssigned.TYPE:
            return ""
        data = json.loads(row.payload)
    task, tote, position = str(data["task"]), str(data["tote"]), int(data["position"])
    if not PickingService(store).tote_refused(task, position, tote, holder):
        return ""
    return f"tote {tote} taken off position {position} of task {task}"
