"""Messages: English strs that keep their template and params for a face to translate."""

from __future__ import annotations

import copy
import pickle

import pytest

from multiflexi.core import schedules
from multiflexi.core.errors import NotFound, ValidationError
from multiflexi.core.texts import Message, msg


def test_a_message_is_its_english_text_with_its_template_and_params():
    made = msg("company slug {slug!r} is taken", slug="alpha")
    assert made == "company slug 'alpha' is taken"
    assert isinstance(made, str)
    assert made.template == "company slug {slug!r} is taken"
    assert made.params == {"slug": "alpha"}
    assert f"{made}" == "company slug 'alpha' is taken"
    assert msg("must not be empty").params == {}


def test_a_param_may_be_a_message_and_survives_pickling_and_copies():
    made = msg("{what} {key} not found", what=msg("run template"), key=7)
    assert made == "run template 7 not found"
    unpickled = pickle.loads(pickle.dumps(made))  # noqa: S301 (our own bytes)
    for again in (unpickled, copy.copy(made), copy.deepcopy(made)):
        assert type(again) is Message
        assert again == made
        assert again.template == made.template
        assert isinstance(again.params["what"], Message)
        assert again.params["what"].template == "run template"


def test_core_errors_carry_messages_with_the_same_english():
    missing = NotFound("company", 3)
    assert str(missing) == "company 3 not found"
    assert isinstance(missing.message, Message)
    assert missing.message.params["what"].template == "company"
    with pytest.raises(ValidationError) as caught:
        schedules.Schedule("d", delay=-1)
    problem = caught.value.problems[0]
    assert problem.message == "must be between 0 and 31622400 seconds, not -1"
    assert problem.message.template == "must be between 0 and {max_delay} seconds, not {delay}"


@pytest.mark.parametrize(
    ("schedule", "english"),
    [
        (
            schedules.Schedule("d", delay=7200, timezone="Europe/Prague"),
            "every day at 02:00 (Europe/Prague)",
        ),
        (schedules.Schedule("w", delay=3 * 86400), "every Thursday at 00:00 (UTC)"),
        (schedules.Schedule("i", delay=90), "every minute, delayed by 1m30s"),
        (schedules.Schedule("h", delay=900), "every hour at :15"),
        (schedules.Schedule("n"), "never (disabled)"),
        (schedules.Schedule("w", delay=8 * 86400), "weekly at 0 0 * * 1 (UTC), delayed by 8d"),
    ],
)
def test_a_schedules_description_is_a_message_with_the_same_english(schedule, english):
    described = schedules.describe(schedule)
    assert described == english
    assert isinstance(described, Message)
