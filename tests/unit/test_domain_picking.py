"""Pick lines, pick tasks, batches, totes and shortages."""

import itertools

import pytest

from floor_app.domain.errors import DomainError, IllegalTransition, QuantityError
from floor_app.domain.picking import (
    TASK_PATH,
    TASK_TRANSITIONS,
    PickBatch,
    PickLine,
    PickTask,
    Shortage,
    ShortReason,
    TaskState,
    Tote,
)

pytestmark = pytest.mark.unit


def line(line_id: str = "L1", qty: int = 3, sequence: int = 0) -> PickLine:
    return PickLine(
        line_id, "SO-100001", 1, "SKU-00001", "04006381333931", "A01-01-1A", qty, 1, sequence
    )


def task(*lines: PickLine) -> PickTask:
    return PickTask("PT-1", list(lines or (line(),)))


# -- pick lines ------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [0, -2])
def test_pick_line_needs_a_positive_quantity(qty: int) -> None:
    with pytest.raises(QuantityError, match="pick line L1: quantity must be positive"):
        line(qty=qty)


def test_confirm_counts_up_to_the_open_quantity() -> None:
    ln = line(qty=3)
    ln.confirm(2)
    assert (ln.picked, ln.open_qty, ln.is_done) == (2, 1, False)
    ln.confirm(1)
    assert (ln.picked, ln.open_qty, ln.is_done) == (3, 0, True)


def test_confirm_more_than_open_is_refused_and_changes_nothing() -> None:
    ln = line(qty=3)
    ln.confirm(2)
    with pytest.raises(QuantityError, match="2 is more than the 1 still open") as info:
        ln.confirm(2)
    assert "put the extra back" in info.value.hint
    assert ln.picked == 2


@pytest.mark.parametrize("qty", [0, -1])
def test_confirm_needs_a_positive_quantity(qty: int) -> None:
    ln = line()
    with pytest.raises(QuantityError, match="must be positive"):
        ln.confirm(qty)
    assert ln.picked == 0


def test_undo() -> None:
    ln = line(qty=3)
    ln.confirm(3)
    ln.undo(2)
    assert ln.picked == 1
    for bad in (0, -1, 2):
        with pytest.raises(QuantityError, match="only 1 picked"):
            ln.undo(bad)
    assert ln.picked == 1


def test_report_short() -> None:
    ln = line(qty=5)
    ln.confirm(2)
    ln.report_short(3, ShortReason.EMPTY)
    assert (ln.short, ln.short_reason, ln.open_qty, ln.is_done) == (3, ShortReason.EMPTY, 0, True)


@pytest.mark.parametrize("qty", [0, -1, 4])
def test_report_short_of_more_than_open_is_refused(qty: int) -> None:
    ln = line(qty=5)
    ln.confirm(2)
    with pytest.raises(QuantityError, match=r"short quantity must be 1\.\.3"):
        ln.report_short(qty, ShortReason.DAMAGED)
    assert (ln.short, ln.short_reason) == (0, None)


# -- pick tasks ------------------------------------------------------------------------


def test_task_needs_lines() -> None:
    with pytest.raises(DomainError, match="PT-1 has no lines"):
        PickTask("PT-1", [])


def test_task_renumbers_sequences_in_route_order() -> None:
    a, b, c = line("A", sequence=7), line("B", sequence=2), line("C", sequence=5)
    t = task(a, b, c)
    assert [ln.line_id for ln in t.ordered_lines()] == ["B", "C", "A"]
    assert [ln.sequence for ln in t.ordered_lines()] == [0, 1, 2]


def test_next_line_and_progress() -> None:
    a, b = line("A", qty=1, sequence=0), line("B", qty=2, sequence=1)
    t = task(a, b)
    assert t.next_line() is a
    assert t.progress == (0, 2)
    a.confirm(1)
    assert t.next_line() is b
    assert t.progress == (1, 2)
    b.report_short(2, ShortReason.NOT_FOUND)
    assert t.next_line() is None
    assert t.is_complete
    assert t.progress == (2, 2)


def test_skip_moves_a_line_to_the_end() -> None:
    a, b, c = line("A", sequence=0), line("B", sequence=1), line("C", sequence=2)
    t = task(a, b, c)
    t.skip("A")
    assert [ln.line_id for ln in t.ordered_lines()] == ["B", "C", "A"]
    assert t.next_line() is b


def test_skip_of_a_done_or_unknown_line_is_refused() -> None:
    a, b = line("A", qty=1), line("B", sequence=1)
    t = task(a, b)
    a.confirm(1)
    with pytest.raises(DomainError, match="already done"):
        t.skip("A")
    with pytest.raises(DomainError, match="has no line Z"):
        t.skip("Z")


def test_totes() -> None:
    t = PickTask("PT-1", [line()], totes=[Tote("T0001", 1, "SO-1"), Tote("T0002", 2, "SO-2")])
    assert t.tote_for(2) == Tote("T0002", 2, "SO-2")
    assert t.tote_for(3) is None


TASK_ALLOWED = [(s, d) for s, targets in TASK_TRANSITIONS.items() for d in sorted(targets)]
TASK_REFUSED = [(s, d) for s in TaskState for d in TaskState if d not in TASK_TRANSITIONS[s]]


@pytest.mark.parametrize(("src", "dst"), TASK_ALLOWED, ids=str)
def test_every_allowed_task_transition(src: TaskState, dst: TaskState) -> None:
    t = task()
    t.state = src
    t.move_to(dst)
    assert (t.state, t.version) == (dst, 2)


@pytest.mark.parametrize(("src", "dst"), TASK_REFUSED, ids=str)
def test_every_other_task_transition_is_refused(src: TaskState, dst: TaskState) -> None:
    t = task()
    t.state = src
    with pytest.raises(IllegalTransition, match=f"PT-1 is {src}; cannot become {dst}"):
        t.move_to(dst)
    assert (t.state, t.version) == (src, 1)


def test_task_state_table_covers_every_state() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskState)
    assert TASK_TRANSITIONS[TaskState.DONE] == TASK_TRANSITIONS[TaskState.CANCELLED] == set()


@pytest.mark.parametrize(
    ("src", "target", "passed"),
    [
        (
            TaskState.OPEN,
            TaskState.DONE,
            [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.DONE],
        ),
        (TaskState.ASSIGNED, TaskState.IN_PROGRESS, [TaskState.IN_PROGRESS]),
        (TaskState.IN_PROGRESS, TaskState.IN_PROGRESS, []),  # already there
        (TaskState.DONE, TaskState.IN_PROGRESS, []),  # never back
        (TaskState.IN_PROGRESS, TaskState.ASSIGNED, []),
        (TaskState.CANCELLED, TaskState.DONE, []),  # cancelled stays cancelled
        (TaskState.OPEN, TaskState.CANCELLED, []),  # not on the way
    ],
)
def test_a_task_advances_along_its_path_only(
    src: TaskState, target: TaskState, passed: list[TaskState]
) -> None:
    t = task()
    t.state = src
    t.advance(target)
    assert t.state is (passed[-1] if passed else src)
    assert t.version == 1 + len(passed)


def test_the_task_path_is_made_of_allowed_transitions() -> None:
    for src, dst in itertools.pairwise(TASK_PATH):
        assert dst in TASK_TRANSITIONS[src]


# -- batches and shortages -------------------------------------------------------------


def test_batch() -> None:
    batch = PickBatch("PB-1", ("SO-1", "SO-2"), {"SO-1": 1, "SO-2": 2})
    assert batch.tote_positions["SO-2"] == 2


def test_batch_needs_a_tote_position_for_every_order() -> None:
    with pytest.raises(DomainError, match="every order needs exactly one tote position"):
        PickBatch("PB-1", ("SO-1", "SO-2"), {"SO-1": 1})
    with pytest.raises(DomainError, match="every order needs exactly one tote position"):
        PickBatch("PB-1", ("SO-1",), {"SO-1": 1, "SO-9": 2})


def test_batch_orders_cannot_share_a_tote() -> None:
    with pytest.raises(DomainError, match="two orders share a tote position"):
        PickBatch("PB-1", ("SO-1", "SO-2"), {"SO-1": 1, "SO-2": 1})


def test_batch_cannot_list_an_order_twice() -> None:
    with pytest.raises(DomainError, match="order SO-1 is listed twice"):
        PickBatch("PB-1", ("SO-1", "SO-2", "SO-1"), {"SO-1": 1, "SO-2": 2})


@pytest.mark.parametrize("qty", [0, -1])
def test_shortage_needs_a_positive_quantity(qty: int) -> None:
    with pytest.raises(QuantityError, match="short quantity must be positive"):
        Shortage("SO-1", "SKU-1", "A01-01-1A", qty, ShortReason.EMPTY, "alice")


def test_shortage() -> None:
    s = Shortage("SO-1", "SKU-1", "A01-01-1A", 2, ShortReason.DAMAGED, "alice", "PT-1", "L1")
    assert (s.qty, s.reason, s.task_id) == (2, ShortReason.DAMAGED, "PT-1")
