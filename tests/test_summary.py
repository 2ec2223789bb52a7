"""The summary: per-day counts with views, and each question's numbers, against hand counts."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Form
from app.models import Role
from app.services import summaries
from app.services.form_views import add_view_counts
from tests.test_inbox import add_submission
from tests.test_inbox import fresh_caches  # noqa: F401 -- an autouse fixture
from tests.test_inbox import make_survey
from tests.test_inbox import signed_in

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
# (size, topics, stars, nps, age, agree, message) per submission.
ANSWERS = [
    ("s", ["art"], 5, 10, 20, True, "Great"),
    ("m", ["art", "books"], 4, 9, 30, True, ""),
    ("m", [], 4, 7, 30, False, "Fine"),
    ("l", ["books"], 2, 3, 41, True, None),
    (None, ["art", "cinema"], None, 0, None, None, "Meh"),
]


@pytest.fixture
def summarized(app, owner):
    form_id = make_survey(app)
    for days_ago, (size, topics, stars, nps, age, agree, message) in enumerate(ANSWERS):
        answers = {"name": "X", "size": size, "topics": topics, "stars": stars, "nps": nps}
        answers |= {"age": age, "agree": agree, "message": message}
        answers = {key: value for key, value in answers.items() if value is not None}
        add_submission(app, form_id, answers, at=NOW - timedelta(days=days_ago, hours=1))
    # Not counted: spam, trash, and one older than the period.
    add_submission(app, form_id, {"size": "s"}, at=NOW, is_spam=True)
    add_submission(app, form_id, {"size": "s"}, at=NOW, deleted_at=NOW)
    add_submission(app, form_id, {"size": "s"}, at=NOW - timedelta(days=40))
    with app.app_context():
        hour = NOW.replace(minute=0) - timedelta(hours=1)
        add_view_counts({(form_id, hour): 12, (form_id, hour - timedelta(days=1)): 8})
        form = db.session.get(Form, form_id)
        result = summaries.summarize(form, 30, ZoneInfo("UTC"), now=NOW)
    return form_id, {question.key: question for question in result.questions}, result


def test_submissions_and_views_per_day_give_the_completion_rate(summarized):
    _, _, result = summarized
    assert result.days == 30 and len(result.per_day) == 30
    assert result.per_day[-1].day.isoformat() == "2025-06-30"
    assert [point.submissions for point in result.per_day[-5:]] == [1, 1, 1, 1, 1]
    assert [point.views for point in result.per_day[-2:]] == [8, 12]
    assert result.submissions == 5 and result.views == 20
    assert result.completion_rate == pytest.approx(0.25)


def test_choices_count_each_option_including_checkboxes(summarized):
    _, questions, _ = summarized
    assert questions["size"].bars == [("Small", 1), ("Medium", 2), ("Large", 1)]
    assert questions["size"].answered == 4
    assert questions["topics"].bars == [("art", 3), ("books", 2), ("cinema", 1)]
    assert questions["topics"].answered == 4
    assert questions["agree"].bars == [("Yes", 3), ("No", 1)]


def test_ratings_have_mean_median_and_the_nps(summarized):
    _, questions, _ = summarized
    stars = questions["stars"]
    assert stars.bars == [("1", 0), ("2", 1), ("3", 0), ("4", 2), ("5", 1)]
    assert (stars.mean, stars.median) == (3.75, 4.0)
    nps = questions["nps"]
    assert nps.kind == "nps"
    # 10 and 9 promote, 7 is passive, 3 and 0 detract: (2 - 2) / 5.
    assert (nps.promoters, nps.passives, nps.detractors, nps.nps) == (2, 1, 2, 0)
    assert nps.mean == pytest.approx(29 / 5)
    assert nps.median == 7


def test_numbers_have_a_histogram_mean_and_median(summarized):
    _, questions, _ = summarized
    age = questions["age"]
    assert age.answered == 4
    assert (age.mean, age.median) == (30.25, 30.0)
    assert age.bars == [("20", 1), ("30", 2), ("41", 1)]


def test_text_questions_count_answers(summarized):
    _, questions, _ = summarized
    assert questions["message"].kind == "text"
    assert questions["message"].answered == 3
    assert questions["name"].answered == 5
    assert "cv" not in questions


def test_days_are_the_users_days(app, owner):
    form_id = make_survey(app)
    # 23:30 UTC on 29 June is 30 June in Tokyo.
    add_submission(app, form_id, {"name": "X"}, at=datetime(2025, 6, 29, 23, 30, tzinfo=UTC))
    with app.app_context():
        form = db.session.get(Form, form_id)
        tokyo = summaries.summarize(form, 30, ZoneInfo("Asia/Tokyo"), now=NOW)
        utc = summaries.summarize(form, 30, ZoneInfo("UTC"), now=NOW)
    assert [p.submissions for p in tokyo.per_day[-2:]] == [0, 1]
    assert [p.submissions for p in utc.per_day[-2:]] == [1, 0]


@pytest.mark.parametrize(
    ("counts", "median"),
    [
        ([(1, 1)], 1),
        ([(1, 1), (2, 1)], 1.5),
        ([(1, 2), (5, 1)], 1),
        ([(1, 1), (2, 2), (9, 1)], 2),
        ([(0, 0), (3, 2), (4, 2)], 3.5),
        ([], None),
    ],
)
def test_median_of_counted_values(counts, median):
    assert summaries.median_of(counts) == median


def test_many_distinct_numbers_are_bucketed_by_the_database(app, owner, monkeypatch):
    monkeypatch.setattr(summaries, "DISTINCT_LIMIT", 3)
    form_id = make_survey(app, [{"key": "price", "type": "number", "label": "Price"}], "prices")
    for price in (1.0, 2.0, 3.0, 4.0, 11.0):
        add_submission(app, form_id, {"price": price}, at=NOW)
    with app.app_context():
        result = summaries.summarize(db.session.get(Form, form_id), 30, ZoneInfo("UTC"), NOW)
    price = result.questions[0]
    assert (price.answered, price.mean, price.median) == (5, 4.2, 3.0)
    # Ten ranges of width 1 from 1 to 11.
    assert [count for _label, count in price.bars] == [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    assert price.bars[0][0] == "1 to 2"


def test_summary_page_draws_charts_with_their_numbers(app, summarized):
    form_id, _, _ = summarized
    client = signed_in(app, Role.VIEWER)
    html = client.get(f"/forms/{form_id}/summary?days=365").get_data(as_text=True)
    assert 'aria-current="page">Last 365 days</a>' in html
    for chart in ("per-day", "size", "topics", "stars", "nps", "agree", "message", "name"):
        assert f'<canvas id="chart-{chart}"' in html, chart
        assert f'<table class="chart-table" id="chart-{chart}-table">' in html, chart
    assert '<tr><th scope="row">Medium</th><td>0</td></tr>' in html
    assert "vendor/chart.js/chart.umd.min.js" in html
