"""The summary: per-day counts with views, and each question's numbers, against hand counts."""

from __future__ import annotations

import threading
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Form
from app.models import Role
from app.models import Submission
from app.models import SummaryRollup
from app.models.types import utcnow
from app.ops import seeding
from app.services import submissions
from app.services.forms.view_counts import add_view_counts
from app.services.inbox import rollups
from app.services.inbox import summaries
from app.services.inbox import triage
from tests.test_inbox import add_submission
from tests.test_inbox import fresh_caches  # noqa: F401 -- an autouse fixture
from tests.test_inbox import make_survey

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
def answered(app, owner) -> tuple[int, list[int]]:
    """The survey with the ANSWERS (a day apart), and submissions the summary leaves out."""
    form_id = make_survey(app)
    ids = []
    for days_ago, (size, topics, stars, nps, age, agree, message) in enumerate(ANSWERS):
        answers = {"name": "X", "size": size, "topics": topics, "stars": stars, "nps": nps}
        answers |= {"age": age, "agree": agree, "message": message}
        answers = {key: value for key, value in answers.items() if value is not None}
        ids.append(
            add_submission(app, form_id, answers, at=NOW - timedelta(days=days_ago, hours=1))
        )
    # Not counted: spam, trash, and one older than the period.
    add_submission(app, form_id, {"size": "s"}, at=NOW, is_spam=True)
    add_submission(app, form_id, {"size": "s"}, at=NOW, deleted_at=NOW)
    add_submission(app, form_id, {"size": "s"}, at=NOW - timedelta(days=40))
    with app.app_context():
        hour = NOW.replace(minute=0) - timedelta(hours=1)
        add_view_counts({(form_id, hour): 12, (form_id, hour - timedelta(days=1)): 8})
    return form_id, ids


def summary_of(
    app, form_id: int, days: int = 30, zone: str = "UTC", now: datetime = NOW
) -> summaries.Summary:
    with app.app_context():
        form = db.session.get(Form, form_id)
        return summaries.summarize(form, days, ZoneInfo(zone), now=now)


@pytest.fixture
def summarized(app, answered):
    form_id, _ids = answered
    result = summary_of(app, form_id)
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


@pytest.fixture
def answered_today(app, owner) -> int:
    """The survey with the ANSWERS in the last hours, for pages that summarize until now."""
    form_id = make_survey(app, slug="today")
    for hours_ago, (size, topics, stars, nps, age, agree, message) in enumerate(ANSWERS):
        answers = {"name": "X", "size": size, "topics": topics, "stars": stars, "nps": nps}
        answers |= {"age": age, "agree": agree, "message": message}
        answers = {key: value for key, value in answers.items() if value is not None}
        add_submission(app, form_id, answers, at=utcnow() - timedelta(hours=hours_ago))
    return form_id


def test_summary_page_draws_charts_with_their_numbers(app, answered_today, signed_in):
    client = signed_in(Role.VIEWER)
    html = client.get(f"/forms/{answered_today}/summary?days=365").get_data(as_text=True)
    assert 'aria-current="page">Last 365 days</a>' in html
    assert '<canvas id="chart-per-day"' in html
    # The numbers under the chart are folded until asked for.
    folded = html.index('<details class="chart-numbers">')
    assert folded < html.index('<table class="chart-table" id="chart-per-day-table">')
    for chart in ("size", "topics", "stars", "nps", "agree"):
        assert f'<table class="answer-bars" id="chart-{chart}-table">' in html, chart
    assert "vendor/chart.js/chart.umd.min.js" in html


def test_each_answer_has_a_bar_its_count_and_its_share(app, summarized, answered_today, signed_in):
    _, questions, _ = summarized
    assert questions["size"].shares == [("Small", 1, 0.25), ("Medium", 2, 0.5), ("Large", 1, 0.25)]
    html = signed_in(Role.VIEWER).get(f"/forms/{answered_today}/summary").get_data(as_text=True)
    medium = (
        '<tr><th scope="row">Medium</th><td class="bar-cell">'
        '<meter min="0" max="1" value="0.5" aria-hidden="true"></meter></td>'
        '<td class="count">2</td><td class="share">50%</td></tr>'
    )
    assert medium in html
    # Checkboxes: a share of those who answered, so they may add up past 100%.
    assert '<td class="count">3</td><td class="share">75%</td>' in html
    assert "4 answers (80% of submissions)" in html


def test_text_questions_list_their_latest_answers_not_a_bar(summarized, answered_today, signed_in):
    _, questions, _ = summarized
    assert questions["message"].latest == ["Great", "Fine", "Meh"]
    html = signed_in(Role.VIEWER).get(f"/forms/{answered_today}/summary").get_data(as_text=True)
    message = html[html.index('id="q-message"') :]
    assert "Latest answers" in message
    assert message.index("<li>Great</li>") < message.index("<li>Fine</li>")
    assert "Answered" not in html and 'id="chart-message' not in html


def test_latest_answers_are_the_five_newest_counted_ones_escaped(app, owner, signed_in):
    form_id = make_survey(app)
    now = utcnow()
    for n in range(7):
        add_submission(app, form_id, {"message": f"Note {n}"}, at=now - timedelta(hours=7 - n))
    add_submission(app, form_id, {"message": "<script>alert(1)</script>"}, at=now)
    add_submission(app, form_id, {"message": "Buy pills"}, at=now, is_spam=True)
    html = signed_in(Role.VIEWER).get(f"/forms/{form_id}/summary").get_data(as_text=True)
    listed = html[html.index('id="q-message"') :]
    listed = listed[listed.index("<ol") : listed.index("</ol>")]
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in listed
    assert "<script>alert" not in html
    shown = [n for n in range(7) if f"<li>Note {n}</li>" in listed]
    assert shown == [3, 4, 5, 6]
    assert "Buy pills" not in html


def test_views_show_on_the_summary_at_once(app, owner, client, signed_in):
    form_id = make_survey(app)
    with app.app_context():
        slug = db.session.get(Form, form_id).slug
    for _ in range(3):
        assert client.get(f"/f/{slug}").status_code == 200
    html = signed_in(Role.VIEWER).get(f"/forms/{form_id}/summary").get_data(as_text=True)
    assert '<dd id="total-views">3</dd>' in html


def test_a_process_stores_its_views_soon_without_another_view(app, owner, monkeypatch):
    # What another gunicorn process's summary reads: the views this one stored by timer.
    from app.models import FormViewCount
    from app.services.forms import view_counts

    form_id = make_survey(app)
    monkeypatch.setattr(view_counts, "FLUSH_SECONDS", 0.2)
    monkeypatch.setattr(app, "testing", False)
    with app.app_context():
        counter = view_counts.counter_for(app)
        counter.last_flush = time.monotonic()
        counter.add(form_id, utcnow())
        counter.flush_soon()
        stored = 0
        for _ in range(50):
            time.sleep(0.1)
            db.session.rollback()
            stored = sum(row.views for row in db.session.query(FormViewCount).all())
            if stored:
                break
    assert stored == 1
    assert counter.timer is None


# --- the rollups behind the summary, as submissions come and go ---------------------------------


def test_a_submission_sent_through_the_form_is_counted_by_the_summary_that_follows(app, owner):
    form_id = make_survey(app)
    data = MultiDict(
        [("name", "Ann"), ("size", "m"), ("topics", "art"), ("topics", "books"), ("age", "33")]
    )
    with app.app_context():
        form = db.session.get(Form, form_id)
        context = submissions.SubmissionContext()
        submissions.submit(form, data, MultiDict(), context)
        # Caught by the honeypot: stored as spam, not counted.
        submissions.submit(
            form, MultiDict([("name", "Bot"), ("_gotcha", "x")]), MultiDict(), context
        )
        result = summaries.summarize(form, 30, ZoneInfo("UTC"), now=utcnow())
    questions = {question.key: question for question in result.questions}
    assert result.per_day[-1].submissions == 1 and result.submissions == 1
    assert questions["size"].bars == [("Small", 0), ("Medium", 1), ("Large", 0)]
    assert questions["topics"].bars == [("art", 1), ("books", 1), ("cinema", 0)]
    assert (questions["age"].answered, questions["age"].median) == (1, 33)
    assert questions["name"].answered == 1 and questions["message"].answered == 0


def _post(app, form_id: int, name: str) -> int:
    with app.app_context():
        form = db.session.get(Form, form_id)
        data = MultiDict([("name", name), ("size", "m"), ("topics", "art")])
        return submissions.submit(
            form, data, MultiDict(), submissions.SubmissionContext()
        ).submission_id


def _rollup_rows(app, form_id: int) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                db.select(SummaryRollup).where(SummaryRollup.form_id == form_id)
            ).all()
        )


def _waiting(app) -> list[int]:
    with app.app_context():
        query = db.select(Submission.id).where(~Submission.summarized).order_by(Submission.id)
        return list(db.session.scalars(query))


def test_a_post_leaves_its_counting_to_the_next_batch_which_counts_it_once(app, owner):
    form_id = make_survey(app)
    stored = _post(app, form_id, "Ann")
    assert _rollup_rows(app, form_id) == 0  # the post wrote no counter
    assert _waiting(app) == [stored]
    first = summary_of(app, form_id, now=utcnow())
    assert first.submissions == 1
    assert _waiting(app) == []
    assert summary_of(app, form_id, now=utcnow()) == first  # counted once, not again


def test_rows_changed_before_their_batch_are_counted_as_they_then_are(app, owner):
    form_id = make_survey(app)
    spam, trashed, back, kept = (_post(app, form_id, name) for name in ("S", "T", "B", "K"))
    with app.app_context():
        form = db.session.get(Form, form_id)
        triage.mark_spam(form, db.session.get(Submission, spam))
        triage.trash(db.session.get(Submission, trashed))
        triage.trash(db.session.get(Submission, back))
        triage.restore(db.session.get(Submission, back))
    assert _rollup_rows(app, form_id) == 0  # none of that touched the counters
    result = summary_of(app, form_id, now=utcnow())
    assert result.submissions == 2
    sizes = {question.key: question for question in result.questions}["size"].bars
    assert sizes == [("Small", 0), ("Medium", 2), ("Large", 0)]
    with app.app_context():
        form = db.session.get(Form, form_id)
        triage.mark_not_spam(form, db.session.get(Submission, spam))  # summarized now: +1
        triage.trash(db.session.get(Submission, kept))  # and -1
    assert summary_of(app, form_id, now=utcnow()).submissions == 2
    with app.app_context():
        triage.restore(db.session.get(Submission, kept))
    assert summary_of(app, form_id, now=utcnow()).submissions == 3


def test_the_worker_counts_new_submissions_now_and_then(app, owner):
    from app.services.delivery.worker import Worker

    form_id = make_survey(app)
    _post(app, form_id, "Ann")
    Worker(app, poll_seconds=0).run_once()
    assert _waiting(app) == []
    assert _rollup_rows(app, form_id) > 0


def test_rebuild_counts_the_rows_waiting_for_their_batch(app, owner):
    form_id = make_survey(app)
    _post(app, form_id, "Ann")
    _post(app, form_id, "Bob")
    with app.app_context():
        assert rollups.rebuild(form_id) == 2
        assert rollups.catch_up(form_id) == 0  # nothing left for a batch
        db.session.commit()
    assert summary_of(app, form_id, now=utcnow()).submissions == 2


CHANGES_OF_MANY_ROWS = {
    "summary batch": lambda form, _ids: rollups.catch_up(form.id),
    "bulk mark read": lambda form, ids: triage.apply_bulk(form, "read", [ids]),
    "bulk spam": lambda form, ids: triage.apply_bulk(form, "spam", [ids]),
    "bulk trash": lambda form, ids: triage.apply_bulk(form, "trash", [ids]),
}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("change", CHANGES_OF_MANY_ROWS)
def test_changes_of_many_rows_lock_them_in_id_order(app, owner, database_url, change):
    """Two statements that change some of the same rows wait for each other in turn, rather
    than each holding one the other needs (a deadlock): each locks its rows in id order, even
    when an edit has moved the older row behind the newer one in the table."""
    form_id = make_survey(app)
    older, newer = _post(app, form_id, "Ann"), _post(app, form_id, "Bob")
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == older).values(is_read=True))
        db.session.commit()
        places = db.session.execute(
            text("SELECT id, ctid FROM submissions ORDER BY ctid")
        ).scalars()
        assert list(places) == [newer, older]  # the table now reads the newer row first
    with app.app_context(), db.engine.connect() as holder, db.engine.connect() as prober:
        holder.execute(text("SELECT id FROM submissions WHERE id = :id FOR UPDATE"), {"id": older})
        changer = threading.Thread(
            target=_change_in_context, args=(app, change, form_id, [older, newer])
        )
        changer.start()
        _wait_until_blocked(prober)
        # Waiting for the older row, the change holds none of the newer one yet.
        try:
            prober.execute(
                text("SELECT id FROM submissions WHERE id = :id FOR UPDATE NOWAIT"), {"id": newer}
            )
            holds_newer = False
        except OperationalError:
            holds_newer = True
        prober.rollback()
        holder.rollback()
        changer.join(timeout=10)
    assert not changer.is_alive()
    assert not holds_newer


def _change_in_context(app, change: str, form_id: int, ids: list[int]) -> None:
    with app.app_context():
        CHANGES_OF_MANY_ROWS[change](db.session.get(Form, form_id), ids)
        db.session.commit()


def _wait_until_blocked(connection) -> None:
    """Until another backend of this database waits for a row lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while connection.execute(waiting).scalar() == 0:
        assert time.monotonic() < deadline, "the change never waited for the held row"
        connection.rollback()
        time.sleep(0.02)
    connection.rollback()


def test_spam_leaves_every_aggregate_as_if_it_had_never_come(app, answered):
    form_id, ids = answered
    with app.app_context():
        triage.mark_spam(db.session.get(Form, form_id), db.session.get(Submission, ids[0]))
    result = summary_of(app, form_id)
    questions = {question.key: question for question in result.questions}
    # ANSWERS without its first row, counted by hand.
    assert [point.submissions for point in result.per_day[-5:]] == [1, 1, 1, 1, 0]
    assert result.submissions == 4 and result.completion_rate == pytest.approx(4 / 20)
    assert questions["size"].bars == [("Small", 0), ("Medium", 2), ("Large", 1)]
    assert questions["size"].answered == 3
    assert questions["topics"].bars == [("art", 2), ("books", 2), ("cinema", 1)]
    assert questions["agree"].bars == [("Yes", 2), ("No", 1)]
    stars = questions["stars"]
    assert stars.bars == [("1", 0), ("2", 1), ("3", 0), ("4", 2), ("5", 0)]
    assert (stars.answered, stars.mean, stars.median) == (3, pytest.approx(10 / 3), 4)
    nps = questions["nps"]
    # 9 promotes, 7 is passive, 3 and 0 detract: (1 - 2) / 4.
    assert (nps.promoters, nps.passives, nps.detractors, nps.nps) == (1, 1, 2, -25)
    assert (nps.mean, nps.median) == (4.75, 5.0)
    age = questions["age"]
    assert (age.answered, age.mean, age.median) == (3, pytest.approx(101 / 3), 30)
    assert age.bars == [("30", 2), ("41", 1)]
    assert (questions["message"].answered, questions["name"].answered) == (2, 4)


def test_not_spam_trash_and_restore_move_the_summary_back_and_forth(app, answered):
    form_id, ids = answered
    before = summary_of(app, form_id)
    with app.app_context():
        form = db.session.get(Form, form_id)
        triage.mark_spam(form, db.session.get(Submission, ids[0]))
    as_spam = summary_of(app, form_id)
    assert as_spam != before
    with app.app_context():
        form = db.session.get(Form, form_id)
        triage.mark_not_spam(form, db.session.get(Submission, ids[0]))
    assert summary_of(app, form_id) == before
    with app.app_context():
        triage.trash(db.session.get(Submission, ids[0]))
        # Twice: the second finds it in the trash already and changes nothing.
        triage.trash(db.session.get(Submission, ids[0]))
    assert summary_of(app, form_id) == as_spam
    with app.app_context():
        # In the trash and then spam: it stays uncounted, and "not spam" does not count it.
        form = db.session.get(Form, form_id)
        triage.mark_spam(form, db.session.get(Submission, ids[0]))
        triage.mark_not_spam(form, db.session.get(Submission, ids[0]))
    assert summary_of(app, form_id) == as_spam
    with app.app_context():
        triage.restore(db.session.get(Submission, ids[0]))
    assert summary_of(app, form_id) == before


@pytest.mark.parametrize(("action", "undo"), [("spam", "not_spam"), ("trash", "restore")])
def test_bulk_actions_move_the_summary_and_back(app, answered, action, undo):
    form_id, ids = answered
    before = summary_of(app, form_id)
    with app.app_context():
        form = db.session.get(Form, form_id)
        assert triage.apply_bulk(form, action, [ids[:2], ids[:1]]) == 2
    moved = summary_of(app, form_id)
    assert moved.submissions == 3
    assert {q.key: q.answered for q in moved.questions}["topics"] == 2
    with app.app_context():
        assert rollups.rebuild(form_id) == 4  # and the 40-day-old one
    assert summary_of(app, form_id) == moved
    with app.app_context():
        form = db.session.get(Form, form_id)
        assert triage.apply_bulk(form, undo, [ids[:2]]) == 2
    assert summary_of(app, form_id) == before


def test_purging_the_trash_leaves_the_summary_alone(app, answered):
    form_id, _ids = answered
    before = summary_of(app, form_id)
    with app.app_context():
        assert triage.purge_trash(now=utcnow() + timedelta(days=400)) == 1
    assert summary_of(app, form_id) == before


def test_rebuild_summaries_recounts_from_the_stored_rows(app, answered, runner):
    form_id, _ids = answered
    before = summary_of(app, form_id)
    with app.app_context():
        db.session.execute(delete(SummaryRollup))
        db.session.commit()
    assert summary_of(app, form_id).submissions == 0
    result = runner.invoke(args=["submissions", "rebuild-summaries", "survey"])
    assert result.exit_code == 0, result.output
    assert f"Form {form_id}: counted 6 submissions" in result.output  # 5 and the 40-day-old one
    assert summary_of(app, form_id) == before
    assert runner.invoke(args=["submissions", "rebuild-summaries"]).exit_code == 0
    assert summary_of(app, form_id) == before


def test_the_first_partial_day_of_a_zone_is_counted_from_its_rows(app, owner):
    form_id = make_survey(app)
    # In Tokyo (UTC+9) the 30 days start at 15:00 UTC the day before their first date.
    start = datetime(2025, 5, 31, 15, 0, tzinfo=UTC)
    add_submission(app, form_id, {"size": "l", "age": 70}, at=start + timedelta(minutes=30))
    add_submission(app, form_id, {"size": "s", "age": 10}, at=start - timedelta(minutes=30))
    add_submission(app, form_id, {"size": "m", "age": 40}, at=NOW)
    tokyo = summary_of(app, form_id, zone="Asia/Tokyo")
    questions = {question.key: question for question in tokyo.questions}
    assert tokyo.per_day[0].day.isoformat() == "2025-06-01"
    assert (tokyo.per_day[0].submissions, tokyo.submissions) == (1, 2)
    assert questions["size"].bars == [("Small", 0), ("Medium", 1), ("Large", 1)]
    assert (questions["age"].mean, questions["age"].median) == (55, 55)
    utc = {question.key: question for question in summary_of(app, form_id, days=90).questions}
    assert utc["size"].bars == [("Small", 1), ("Medium", 1), ("Large", 1)]


def test_many_decimals_have_an_exact_mean_and_a_median_within_one_percent(app, owner):
    form_id = make_survey(app, [{"key": "price", "type": "number", "label": "Price"}], "prices")
    prices = [round(100 + n * 0.37, 2) for n in range(101)]  # 100.0 to 137.0, 5 digits
    for price in prices:
        add_submission(app, form_id, {"price": price}, at=NOW)
    price = summary_of(app, form_id).questions[0]
    assert price.answered == 101
    assert price.mean == pytest.approx(sum(prices) / 101)
    assert price.median == pytest.approx(sorted(prices)[50], rel=0.01)
    assert price.bars[0][0] == "100 to 103.7"
    assert sum(count for _label, count in price.bars) == 101


def test_seeded_rollups_are_what_a_rebuild_counts(app, owner):
    form_id = make_survey(app)
    with app.app_context():
        seeding.seed_submissions(db.session.get(Form, form_id), 400, days=60)
    now = utcnow()
    seeded = summary_of(app, form_id, days=90, zone="Europe/Paris", now=now)
    assert seeded.submissions > 350
    with app.app_context():
        rollups.rebuild(form_id)
    rebuilt = summary_of(app, form_id, days=90, zone="Europe/Paris", now=now)
    assert [p.submissions for p in rebuilt.per_day] == [p.submissions for p in seeded.per_day]
    for ours, theirs in zip(seeded.questions, rebuilt.questions, strict=True):
        assert (ours.key, ours.answered, ours.bars) == (theirs.key, theirs.answered, theirs.bars)
        assert ours.mean == pytest.approx(theirs.mean)
        assert ours.median == pytest.approx(theirs.median)
