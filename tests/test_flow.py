"""The flow's conditions and walks (app/flow), against the case file the browser's evaluator
is held to as well (tests/flow/cases.json), and the publish checks of pages and conditions."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

from app.exceptions import ValidationFailed
from app.fields import parse_field_specs
from app.flow.checks import flow_problems
from app.flow.conditions import OPERATORS
from app.flow.conditions import evaluate
from app.flow.pages import Flow
from app.flow.pages import pages_of_draft
from app.flow.pages import questions_of_draft

PROJECT_DIR = pathlib.Path(__file__).resolve().parents[1]
CASES = json.loads((pathlib.Path(__file__).parent / "flow" / "cases.json").read_text())
OPERATOR_CASES = [
    pytest.param(group["condition"], case["answers"], case["holds"], id=f"{group['kind']}-{index}")
    for group in CASES["operators"]
    for index, case in enumerate(group["cases"])
]
WALK_CASES = [
    pytest.param(flow, case, id=f"{number}-{index}")
    for number, flow in enumerate(CASES["flows"])
    for index, case in enumerate(flow["cases"])
]


@pytest.mark.parametrize(("condition", "answers", "holds"), OPERATOR_CASES)
def test_a_condition_holds_as_the_case_file_says(condition, answers, holds):
    assert evaluate(condition, answers, CASES["named"]) is holds


def test_the_case_file_tries_every_operator_of_every_kind():
    tried = {(group["kind"], group["condition"].get("op")) for group in CASES["operators"]}
    for kind, operators in OPERATORS.items():
        for operator in operators:
            if operator in ("empty", "not_empty"):
                continue  # the same for every kind; tried on text
            assert (kind, operator) in tried or (
                operator in ("between", "after") and any(op == operator for _k, op in tried)
            ), (kind, operator)


@pytest.mark.parametrize(("flow", "case"), WALK_CASES)
def test_a_walk_shows_and_keeps_what_the_case_file_says(flow, case):
    walk = Flow.from_schema(flow["schema"], flow["always_kept"]).walk(
        case["answers"], stop_at=case.get("stop_at")
    )
    assert list(walk.path) == case["path"]
    assert sorted(walk.visible) == sorted(case["visible"])
    assert walk.answers == case["kept"]


def draft_items(schema):
    """A version schema's pages written as a draft writes them: a page break before each."""
    fields = {item["key"]: item for item in schema["fields"]}
    if not schema.get("pages"):
        return schema["fields"]
    items = []
    for page in schema["pages"]:
        rules = {"routes": page.get("routes") or [], "default": page.get("default")}
        items.append(
            {"key": page["id"], "type": "page", "label": page.get("title") or page["id"],
             "show_if": page.get("show_if"), "rules": rules}
        )  # fmt: skip
        items += [fields[key] for key in page["fields"]]
    return items


@pytest.mark.parametrize("goto", ["p1", "p2", "nowhere"])
def test_a_walk_never_loops_on_an_unchecked_route(goto):
    schema = {
        "fields": [{"key": "a", "type": "short_text"}, {"key": "b", "type": "short_text"}],
        "pages": [{"id": "p1", "fields": ["a"]}, {"id": "p2", "fields": ["b"], "default": goto}],
    }
    with pytest.raises(ValueError, match="not forward"):
        Flow.from_schema(schema).walk({})


@pytest.mark.parametrize(
    "day",
    ["2024-13-01", "2024-02-30", "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661", "2024-1-1"],
)
def test_a_date_in_a_condition_is_a_real_iso_date(day):
    condition = {"field": "when", "op": "before", "value": day}
    assert "YYYY-MM-DD" in problems_of(with_show_if("last", condition))[0][1]


def test_every_flow_in_the_case_file_passes_the_publish_checks_and_keeps_its_pages():
    for flow in CASES["flows"]:
        specs = parse_field_specs(draft_items(flow["schema"]))
        assert flow_problems(specs, flow["schema"].get("conditions")) == [], flow["name"]
        pages = pages_of_draft(specs)
        expected = flow["schema"]["pages"]
        if expected is None:
            assert pages is None
            continue
        assert [page["id"] for page in pages] == [page["id"] for page in expected]
        assert [page["fields"] for page in pages] == [page["fields"] for page in expected]
        assert [page["routes"] for page in pages] == [page.get("routes", []) for page in expected]
        questions = [spec.key for spec in questions_of_draft(specs)]
        assert questions == [item["key"] for item in flow["schema"]["fields"]]


FIELDS = [
    {"key": "name", "type": "short_text", "label": "Name"},
    {
        "key": "member",
        "type": "single_choice",
        "label": "Member?",
        "rules": {"choices": ["yes", "no"]},
    },
    {"key": "age", "type": "number", "label": "Age"},
    {"key": "intro", "type": "section", "label": "About the club"},
    {
        "key": "topics",
        "type": "multiple_choice",
        "label": "Topics",
        "rules": {"choices": ["a", "b"]},
    },
    {"key": "when", "type": "date", "label": "When"},
    {"key": "last", "type": "short_text", "label": "Last"},
]
ALL_KEYS = [item["key"] for item in FIELDS]


def page_break(key, title="", show_if=None, routes=(), default=None):
    rules = {"routes": list(routes), "default": default}
    return {"key": key, "type": "page", "label": title or key, "show_if": show_if, "rules": rules}


def paged(*groups, **breaks):
    """Page breaks p1, p2, ... each followed by its fields; ``p2={...}`` sets a break's options."""
    by_key = {item["key"]: item for item in FIELDS}
    items = []
    for number, keys in enumerate(groups, start=1):
        items.append(page_break(f"p{number}", **breaks.get(f"p{number}", {})))
        items += [by_key[key] for key in keys]
    return items


def problems_of(items, named=None):
    return [(p.path, p.message) for p in flow_problems(parse_field_specs(items), named)]


def with_show_if(key, condition, required=False, items=FIELDS):
    return [
        {**item, "show_if": condition, "required": required} if item["key"] == key else item
        for item in items
    ]


def test_a_form_without_pages_or_conditions_has_no_problems():
    assert problems_of(FIELDS) == []


@pytest.mark.parametrize(
    ("condition", "path", "words"),
    [
        ({"field": "nope", "op": "is", "value": "yes"}, "field", 'no question has the key "nope"'),
        ({"field": "member", "op": "gte", "value": 1}, "op", '"member" takes these tests: is,'),
        ({"field": "member", "op": "is", "value": "maybe"}, "value", '"maybe", which is not one'),
        ({"field": "member", "op": "any_of", "value": []}, "value", "a list of the question's"),
        ({"field": "age", "op": "gte", "value": "18"}, "value", "must be a number"),
        ({"field": "age", "op": "between", "value": [9, 1]}, "value", "smallest first"),
        ({"field": "age", "op": "between", "value": [1]}, "value", "two values"),
        ({"field": "when", "op": "before", "value": "1/2/2024"}, "value", "YYYY-MM-DD"),
        ({"field": "topics", "op": "count_gte", "value": -1}, "value", "0 or more"),
        ({"field": "name", "op": "contains", "value": " "}, "value", "1 to 500 characters"),
        ({"field": "name", "op": "empty", "value": "x"}, "value", "must be left out"),
        ({"field": "intro", "op": "empty"}, "field", "takes no answer to test"),
        ({"field": "name", "op": "equals", "value": "x", "label": "y"}, "label", "unknown setting"),
        ({"all": []}, "all", '"all" takes a list'),
        ({"all": [{"field": "name", "op": "empty"}], "any": []}, "", "holds nothing else"),
        ({"condition": "nameless"}, "condition", 'no condition is named "nameless"'),
        ({"not": []}, "not", "a condition must be an object"),
    ],
)
def test_a_bad_condition_is_named_with_its_page_question_and_path(condition, path, words):
    found = problems_of(with_show_if("last", condition))
    assert len(found) == 1, found
    where, message = found[0]
    assert where == "fields[6].show_if" + (f".{path}" if path else "")
    assert message.startswith('Page 1, question "Last", show if')
    assert words in message


def test_conditions_nest_at_most_five_groups_deep():
    condition = {"field": "name", "op": "empty"}
    for _ in range(5):
        condition = {"not": condition}
    assert problems_of(with_show_if("last", condition)) == []
    deeper = problems_of(with_show_if("last", {"not": condition}))
    assert "at most 5 groups deep" in deeper[0][1]


def test_a_condition_may_not_read_a_later_question_or_itself():
    later = problems_of(with_show_if("name", {"field": "age", "op": "gt", "value": 1}))
    assert later == [
        (
            "fields[0].show_if.field",
            'Page 1, question "Name", show if: "age" is not asked before this point; a '
            "condition may only use earlier questions.",
        )
    ]
    itself = problems_of(with_show_if("age", {"field": "age", "op": "gt", "value": 1}))
    assert "is not asked before this point" in itself[0][1]


def test_a_page_condition_reads_only_earlier_pages_and_a_route_its_own_page_too():
    on_page_1 = {"field": "name", "op": "empty"}
    assert problems_of(paged(["name"], ALL_KEYS[1:], p2={"show_if": on_page_1})) == []
    found = problems_of(paged(["name"], ALL_KEYS[1:], p1={"show_if": on_page_1}))
    assert found[0][0] == "fields[0].show_if.field"
    assert found[0][1].startswith('Page 1 ("p1"), show if:')
    route = [{"if": {"field": "member", "op": "is", "value": "no"}, "goto": "submit"}]
    assert problems_of(paged(["name", "member"], ALL_KEYS[2:], p1={"routes": route})) == []


def test_routes_lead_forward_to_pages_that_exist():
    back = [{"if": {"field": "age", "op": "gt", "value": 1}, "goto": "p1"}]
    found = problems_of(paged(["name", "member"], ALL_KEYS[2:], p2={"routes": back}))
    assert found == [
        (
            "fields[3].rules.routes[0].goto",
            'Page 2 ("p2"), rule 1: going back to "p1" would loop; rules only lead forward.',
        )
    ]
    missing = problems_of(paged(["name"], ALL_KEYS[1:], p1={"default": "p9"}))
    assert missing == [
        (
            "fields[0].rules.default",
            'Page 1 ("p1"), otherwise: there is no later page "p9" (or "submit").',
        )
    ]
    broken = [{"if": {"field": "name", "op": "empty"}}]
    found = problems_of(paged(["name"], ALL_KEYS[1:], p1={"routes": broken}))
    assert "a rule is an object" in found[0][1]


def test_a_page_no_path_reaches_is_a_problem():
    found = problems_of(paged(["name"], ["member"], ALL_KEYS[2:], p1={"default": "p3"}))
    assert found == [("fields[2]", 'Page 2 ("p2"): no path of answers leads here.')]
    # A route that may skip it is fine: some answers still lead there.
    skip = [{"if": {"field": "name", "op": "empty"}, "goto": "p3"}]
    assert problems_of(paged(["name"], ["member"], ALL_KEYS[2:], p1={"routes": skip})) == []


def test_questions_before_the_first_break_are_page_one_and_no_page_is_called_submit():
    late = [*FIELDS[:1], page_break("p2"), *FIELDS[1:]]
    assert problems_of(late) == []
    pages = pages_of_draft(parse_field_specs(late))
    assert [(page["id"], page["fields"]) for page in pages] == [
        ("page-1", ["name"]),
        ("p2", ALL_KEYS[1:]),
    ]
    route = {"if": {"field": "name", "op": "empty"}, "goto": "page-1"}
    back = [*FIELDS[:1], page_break("p2", routes=[route]), *FIELDS[1:]]
    assert "would loop" in problems_of(back)[0][1]
    called_submit = [page_break("submit"), *FIELDS]
    assert problems_of(called_submit) == [("fields[0].key", 'A page cannot be called "submit".')]


def test_a_required_question_that_can_never_be_shown_is_a_problem():
    never = {"all": [
        {"field": "member", "op": "is", "value": "yes"},
        {"field": "member", "op": "is", "value": "no"},
    ]}  # fmt: skip
    found = problems_of(with_show_if("age", never, required=True))
    assert found == [
        (
            "fields[2].show_if",
            'Page 1: the required question "Age" can never be shown: no answers meet its '
            "condition.",
        )
    ]
    # Not required: a question nobody sees harms nobody, so it is no problem.
    assert problems_of(with_show_if("age", never)) == []
    sometimes = {"field": "member", "op": "is", "value": "yes"}
    assert problems_of(with_show_if("age", sometimes, required=True)) == []


def test_named_conditions_are_checked_where_they_are_used():
    named = {"adult": {"field": "age", "op": "gte", "value": 18}}
    use = {"condition": "adult"}
    assert problems_of(with_show_if("last", use), named) == []
    found = problems_of(with_show_if("name", use), named)
    assert (
        found[0][0] == "conditions.adult.field"
    )  # where it is written; the message says where used
    assert 'show if (condition "adult"): "age" is not asked before this point' in found[0][1]
    bad_name = problems_of(FIELDS, {"1st": {"field": "age", "op": "gt", "value": 1}})
    assert bad_name[0][0] == "conditions.1st"
    chained = problems_of(FIELDS, {"a": {"condition": "b"}, "b": use})
    assert chained[0] == ("conditions.a", 'Condition "a" cannot use another by name.')


@pytest.mark.parametrize(
    ("rules", "path", "words"),
    [
        ({"routes": "p2"}, "routes", "routes must be a list"),
        ({"default": 3}, "default", "default must be the key of a later page"),
        ({"colour": "red"}, "colour", 'unknown rule "colour"'),
    ],
)
def test_a_page_break_refuses_rules_of_the_wrong_shape_when_saved(rules, path, words):
    with pytest.raises(ValidationFailed) as refused:
        parse_field_specs([{"key": "p1", "type": "page", "label": "One", "rules": rules}])
    assert refused.value.field == f"fields[0].rules.{path}"
    assert words in refused.value.message


def test_the_browser_flow_gives_the_case_file_answers_too():
    node = shutil.which("node")
    if node is None:
        message = "node is not installed, so the browser's flow logic is not tested"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} but REQUIRE_SERVICES=1")
        pytest.skip(message)
    # Every test file of tests/flow/ by name: after --test, Node 21 and later take files or
    # globs, no longer a folder.
    found = (PROJECT_DIR / "tests" / "flow").glob("*.test.mjs")
    files = sorted(path.relative_to(PROJECT_DIR).as_posix() for path in found)
    assert files
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test {' '.join(files)} failed:\n{output}"
