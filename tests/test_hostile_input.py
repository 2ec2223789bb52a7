"""Hostile input, thrown at every page of the site: NUL characters, ids past 64 bits, Unicode
digits and oddities, broken percent-escapes and search syntax, in every path segment and query
string of every GET route (walked from the URL map, so a new route is covered the day it is
added), signed in as the owner and as nobody. Every answer is a 2xx, 3xx or 4xx: no 500, no
false 503 "database unavailable", nothing logged at ERROR, no exception for Sentry to report.
Runs on SQLite and PostgreSQL with the ``app`` fixture."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from flask import got_request_exception
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.models import Role
from tests.auth_helpers import csrf_token_from
from tests.delivery_helpers import add_webhook
from tests.delivery_helpers import submit_answers
from tests.form_helpers import make_form
from tests.public_helpers import EVERY_FIELD
from tests.public_helpers import REQUIRED_ANSWERS
from tests.public_helpers import fetch_submissions

MAX_ID = 2**63 - 1
# Already percent-encoded: bytes and escapes a browser would never send.
RAW_FRAGMENTS = [
    "%00",
    "a%00b",
    "%ED%A0%80",  # a UTF-16 surrogate, encoded as if it were a character
    "%FF%FE",
    "%C0%AF",
    "%0D%0A",
    "%2e%2e%2f",
    "%",
    "%zz",
]
ODD_TEXTS = [
    "\x00",
    "contact\x00",
    "²",
    "٣",
    "\uff11",  # a fullwidth one
    "0",
    "-1",
    "1e9",
    "0x10",
    "007",
    '"unterminated',
    "'",
    "a' OR '1'='1",
    "NEAR(a b",
    "*",
    "-",
    "\\",
    "\u202eevil",
    "\ufeff",
    "\u00ad",
    "\U0001d54f",  # a mathematical X, outside the BMP
    "x" * 3000,
]
QUERY_NAMES = [
    "q",
    "before",
    "after",
    "days",
    "format",
    "folder",
    "from",
    "to",
    "read",
    "starred",
    "next",
    "embed",
    "bom",
    "cursor",
    "page",
    "f.size",
    "f.\x00",
]


def encoded(text: str) -> str:
    return quote(text, safe="")


hostile_numbers = st.one_of(
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),  # around an Integer column's end
    st.integers(min_value=MAX_ID - 2, max_value=2**200),
    st.integers(max_value=0),
).map(str)
hostile_texts = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.text(min_size=1, max_size=40),
    st.text(alphabet=st.sampled_from("\x00\"'*-()%\\ ²٣a1"), min_size=1, max_size=12),
).map(encoded)
hostile_values = st.one_of(hostile_numbers, hostile_texts, st.sampled_from(RAW_FRAGMENTS))


@dataclass
class Site:
    """A form with every kind of field, one submission and one webhook, and its ids."""

    values: dict[str, str]
    routes: list[str]


@pytest.fixture
def site(app, owner) -> Site:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    form = make_form(app, EVERY_FIELD, slug="every", owner_id=owner)
    submission_id = submit_answers(app, form.id, REQUIRED_ANSWERS)
    endpoint_id, _ = add_webhook(app, form.id, "http://127.0.0.1:9/hook")
    values = {
        "form_id": str(form.id),
        "submission_id": str(submission_id),
        "endpoint_id": str(endpoint_id),
        "webhook_id": str(endpoint_id),
        "user_id": str(owner),
        "token_id": "1",
        "slug": form.slug,
        "key": "name",
        "page_id": "page-1",
        "position": "0",
        "file_id": "nothing",
        "token": "nothing",
        "filename": "css/app.css",
        "address": "forms",
    }
    routes = sorted({rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods})
    return Site(values, routes)


def fill(route: str, values: dict[str, str], hostile: dict[str, str]) -> str:
    """The route's address with each ``<converter:name>`` replaced by the hostile value for
    it, or else the site's real one."""
    path = route
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        name = path[start + 1 : end].split(":")[-1]
        path = path[:start] + hostile.get(name, values[name]) + path[end + 1 :]
    return path


class Failures:
    """What must never happen: an exception reaching Flask's handler (what Sentry reports), and
    anything logged at ERROR, or a 503 blamed on the database."""

    def __init__(self, app) -> None:
        self.app = app
        self.records: list[logging.LogRecord] = []
        self.exceptions: list[BaseException] = []

    def __enter__(self) -> Failures:
        self.handler = _ListHandler(self.records)
        for name in ("formyard", self.app.logger.name):
            logging.getLogger(name).addHandler(self.handler)
        got_request_exception.connect(self._record, self.app)
        return self

    def __exit__(self, *exc_info) -> None:
        for name in ("formyard", self.app.logger.name):
            logging.getLogger(name).removeHandler(self.handler)
        got_request_exception.disconnect(self._record, self.app)

    def _record(self, sender, exception: BaseException, **extra) -> None:
        self.exceptions.append(exception)

    def check(self, response, what: str) -> None:
        # Not ready is what /readyz is for (no worker runs in the tests); nothing else is 5xx.
        if not what.startswith("GET /readyz"):
            assert response.status_code < 500, f"{what}: {response.status_code}"
        assert not self.exceptions, f"{what}: {self.exceptions}"
        bad = [
            r.getMessage()
            for r in self.records
            if r.levelno >= logging.ERROR or "database unavailable" in r.getMessage()
        ]
        assert not bad, f"{what}: {bad}"


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def get(client, failures: Failures, url: str):
    response = client.get(url)
    failures.check(response, f"GET {url}")
    return response


@pytest.mark.parametrize("who", ["owner", "anonymous"])
def test_every_get_route_answers_hostile_input_with_4xx_or_less(app, site, signed_in, who):
    client = signed_in(Role.OWNER) if who == "owner" else app.test_client()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data):
        route = data.draw(st.sampled_from(site.routes), label="route")
        names = [part.split(":")[-1] for part in route.split("<")[1:]]
        names = [name.split(">")[0] for name in names]
        targets = data.draw(st.sets(st.sampled_from(names)), label="targets") if names else ()
        hostile = {name: data.draw(hostile_values, label=name) for name in targets}
        query_name = data.draw(st.one_of(st.sampled_from(QUERY_NAMES).map(encoded), hostile_values))
        query_value = data.draw(hostile_values, label="query value")
        url = f"{fill(route, site.values, hostile)}?{query_name}={query_value}"
        with Failures(app) as failures:
            get(client, failures, url)

    check()


def all_get_addresses(site: Site, hostile_value: str) -> list[str]:
    """Every GET route once with ``hostile_value`` in every segment, and once in a query."""
    addresses = []
    for route in site.routes:
        names = [part.split(">")[0].split(":")[-1] for part in route.split("<")[1:]]
        if names:
            addresses.append(fill(route, site.values, dict.fromkeys(names, hostile_value)))
        addresses.append(f"{fill(route, site.values, {})}?q={hostile_value}&{hostile_value}=1")
    return addresses


@pytest.mark.parametrize("who", ["owner", "anonymous"])
@pytest.mark.parametrize(
    "value",
    ["%00", "a%00b", str(2**31), str(2**63), str(2**64 + 1), "9" * 40, "%C2%B2", "%D9%A3", "0"],
)
def test_the_reviews_examples_on_every_get_route(app, site, signed_in, who, value):
    client = signed_in(Role.OWNER) if who == "owner" else app.test_client()
    with Failures(app) as failures:
        for url in all_get_addresses(site, value):
            response = get(client, failures, url)
            # WhiteNoise serves static files before Flask: a file has no query to read.
            if "%00" in url and not url.startswith("/static/"):
                assert response.status_code == 400, url


def test_nul_in_a_slug_is_a_400_page_for_anyone(client, app, site):
    response = client.get("/f/%00")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Something is not right" in page
    assert "The request may not contain NUL characters." in page


def test_nul_posted_to_a_form_gets_its_formspree_json_shape(client, site):
    response = client.post(
        "/f/every", data={"name": "A\x00"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "The request may not contain NUL characters."


def test_nul_on_an_admin_page_asked_for_in_json_gets_the_site_json_shape(signed_in, site):
    owner = signed_in(Role.OWNER)
    response = owner.get("/forms?x=%00", headers={"Accept": "application/json"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"] == "The request may not contain NUL characters."


@pytest.mark.parametrize(
    "path",
    [
        "/forms/{form_id}/submissions/9223372036854775808",
        "/forms/18446744073709551617",
        "/forms/0",
        "/forms/%D9%A3",  # an Arabic-Indic three: int() reads it, the route must not
        "/users/99999999999999999999999",
        "/users/2147483648",  # past an Integer column: PostgreSQL refuses even to compare it
        "/forms/{form_id}/webhooks/9223372036854775808",
    ],
)
def test_ids_out_of_range_are_not_found(signed_in, site, path):
    owner = signed_in(Role.OWNER)
    response = owner.get(path.format(**site.values))
    assert response.status_code == 404
    assert "There is nothing here" in response.get_data(as_text=True)


def test_the_largest_id_a_column_holds_is_simply_not_found(signed_in, site):
    owner = signed_in(Role.OWNER)
    form_id = site.values["form_id"]
    response = owner.get(f"/forms/{form_id}/submissions/{MAX_ID}")
    assert response.status_code == 404


def post_with_csrf(client, page: str, url: str, data: dict):
    token = csrf_token_from(client.get(page, follow_redirects=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize(
    "email", ["owner@example.com\x00", "\x00", "a\x00@example.com"], ids=["end", "only", "middle"]
)
def test_nul_in_the_sign_in_email_is_a_400_not_a_500(app, client, site, email):
    with Failures(app) as failures:
        response = post_with_csrf(client, "/login", "/login", {"email": email, "password": "x"})
        failures.check(response, "POST /login")
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_nul_in_an_uploaded_file_name_is_a_400(app, client, site):
    data = {**REQUIRED_ANSWERS, "photo": (io.BytesIO(b"x"), "photo\x00.png")}
    with Failures(app) as failures:
        response = client.post("/f/every", data=data, content_type="multipart/form-data")
        failures.check(response, "POST /f/every")
    assert response.status_code == 400


@pytest.mark.parametrize("ids", [["²"], ["٣"], [str(2**64)], ["-1", "0"], [str(MAX_ID)]])
def test_bulk_actions_on_hostile_ids_change_nothing(app, signed_in, site, ids):
    owner = signed_in(Role.OWNER)
    form_id = site.values["form_id"]
    inbox = f"/forms/{form_id}/submissions"
    with Failures(app) as failures:
        response = post_with_csrf(
            owner, inbox, f"{inbox}/bulk", {"action": "star", "ids": ids, "scope": "selected"}
        )
        failures.check(response, "bulk")
    assert response.status_code in {302, 303}
    listing = owner.get(inbox).get_data(as_text=True)
    assert "Ann" in listing


@pytest.mark.parametrize("query", ['"unterminated', "NEAR(a", "a*b", "'", "\\", "-a", "a:b", "^"])
def test_search_syntax_never_passes_for_an_outage(app, signed_in, site, query):
    owner = signed_in(Role.OWNER)
    with Failures(app) as failures:
        response = owner.get(
            f"/forms/{site.values['form_id']}/submissions", query_string={"q": query}
        )
        failures.check(response, f"search {query!r}")
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["User-Agent", "Referer", "Idempotency-Key", "X-Anything"])
def test_nul_in_a_header_is_a_400_before_it_can_reach_the_database(app, client, site, header):
    with Failures(app) as failures:
        response = client.post("/f/every", data=REQUIRED_ANSWERS, headers={header: "a\x00b"})
        failures.check(response, f"POST /f/every with {header}")
    assert response.status_code == 400
    assert "The request may not contain NUL characters." in response.get_data(as_text=True)
    assert len(fetch_submissions(app, "every")) == 1  # the fixture's, and no other
