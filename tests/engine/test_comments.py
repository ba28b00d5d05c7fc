"""Comments and attachment metadata on cases and tasks: kept beside the case, never in its
state, so writing one never conflicts with someone working the case."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from liucheng import Engine, LiuchengError, UnknownInstanceError, UnknownTaskError

from .conftest import START

Deploy = Callable[..., Engine]


def test_comments_and_attachments_on_a_case_and_its_task(deploy: Deploy) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start(engine.processes()[0].id)
    (task,) = engine.tasks(instance=case.id)
    first = engine.comment(case.id, "called the applicant: plate corrected", author="li")
    second = engine.comment(case.id, "前台已核对身份证", author="wang", task=task.id)
    item = engine.attach(
        case.id,
        "行驶证.jpg",
        uri="files://passes/7f3a",
        media_type="image/jpeg",
        size=183_204,
        author="li",
        task=task.id,
    )
    assert engine.comments(case.id) == [first, second]
    assert (second.task_id, second.author, second.created) == (task.id, "wang", START)
    assert engine.attachments(case.id) == [item]
    assert (item.name, item.size, item.media_type) == ("行驶证.jpg", 183_204, "image/jpeg")
    # The case itself did not change: completing its task after a comment is no conflict.
    engine.complete(task.id)
    engine.comment(case.id, "closed", author="li")  # a finished case still takes comments
    assert len(engine.comments(case.id)) == 3


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda e, c: e.comment("nope", "x", author="li"), UnknownInstanceError),
        (lambda e, c: e.comment(c, "x", author="li", task="other.1"), UnknownTaskError),
        (lambda e, c: e.comment(c, "  ", author="li"), LiuchengError),
        (lambda e, c: e.comment(c, "x" * 10_001, author="li"), LiuchengError),
        (lambda e, c: e.comment(c, "x", author=""), LiuchengError),
        (
            lambda e, c: e.attach(c, "a", uri="u", media_type="jpeg", size=1, author="li"),
            LiuchengError,
        ),
        (
            lambda e, c: e.attach(c, "a", uri="u", media_type="image/png", size=-1, author="li"),
            LiuchengError,
        ),
    ],
)
def test_bad_notes_are_refused_and_change_nothing(
    deploy: Deploy, call: Callable[[Engine, str], object], error: type[Exception]
) -> None:
    engine = deploy("test_user_task_completion")
    case = engine.start(engine.processes()[0].id)
    with pytest.raises(error):
        call(engine, case.id)
    assert engine.comments(case.id) == [] and engine.attachments(case.id) == []
