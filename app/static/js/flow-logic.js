// The form flow in the browser: the same conditions and walk as app/flow (conditions.py,
// pages.py), so the respondent page can show and hide questions as answers change. No DOM here.
// tests/flow/cases.json holds this module and the Python engine to the same answers.
//
// Answers are the stored JSON values, keyed by field: text, numbers (a string "5" is not a
// number), choice values, lists of them, ISO dates ("YYYY-MM-DD") and times ("HH:MM"), true
// for a ticked consent, a file's reference.

const SUBMIT = "submit";
const FIRST_PAGE_ID = "page-1"; // the one page of a version without pages

function has(object, key) {
  return typeof key === "string" && object != null && Object.hasOwn(object, key);
}

function isEmpty(answer) {
  if (Array.isArray(answer)) return answer.length === 0;
  return answer == null || answer === "" || answer === false;
}

function isNumber(value) {
  return typeof value === "number"; // not a boolean, nor text such as "5"
}

// Python's str.strip() whitespace, which is not trim()'s: it has U+001C-U+001F and U+0085,
// and not U+FEFF.
const SPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/.source;
const EDGE_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");

function text(answer) {
  return typeof answer === "string" ? answer.replace(EDGE_SPACE, "").toLowerCase() : "";
}

// Python's == on JSON values: lists and objects by content, and true == 1, false == 0.
function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => same(item, b[index]));
  }
  const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    const sameKeys = keys.length === Object.keys(b).length;
    return sameKeys && keys.every((key) => has(b, key) && same(a[key], b[key]));
  }
  const plain = (value) => (typeof value === "boolean" ? Number(value) : value);
  return plain(a) === plain(b);
}

// Whether answer and value can be compared with < and >: both numbers, or both text (ISO
// dates and times order as text; JavaScript orders by UTF-16 unit and Python by code point,
// which differ only beyond U+FFFF).
function ordered(answer, value) {
  if (isNumber(answer) && isNumber(value)) return true;
  return typeof answer === "string" && typeof value === "string" && answer !== "";
}

function between(answer, value) {
  if (!Array.isArray(value) || value.length !== 2) return false;
  const [low, high] = value;
  return ordered(answer, low) && ordered(answer, high) && low <= answer && answer <= high;
}

function choices(answer) {
  if (Array.isArray(answer)) return answer;
  return isEmpty(answer) ? [] : [answer];
}

function values(value) {
  return Array.isArray(value) ? value : [value];
}

const includes = (list, item) => list.some((each) => same(each, item));

const POSITIVE = {
  empty: (answer) => isEmpty(answer),
  equals: (answer, value) => text(answer) !== "" && text(answer) === text(value),
  contains: (answer, value) => text(answer) !== "" && text(answer).includes(text(value)),
  starts_with: (answer, value) => text(answer) !== "" && text(answer).startsWith(text(value)),
  ends_with: (answer, value) => text(answer) !== "" && text(answer).endsWith(text(value)),
  eq: (answer, value) => isNumber(answer) && same(answer, value),
  lt: (answer, value) => isNumber(answer) && ordered(answer, value) && answer < value,
  lte: (answer, value) => isNumber(answer) && ordered(answer, value) && answer <= value,
  gt: (answer, value) => isNumber(answer) && ordered(answer, value) && answer > value,
  gte: (answer, value) => isNumber(answer) && ordered(answer, value) && answer >= value,
  between,
  is: (answer, value) => !isEmpty(answer) && same(answer, value),
  any_of: (answer, value) => !isEmpty(answer) && includes(values(value), answer),
  includes_any: (answer, value) => values(value).some((item) => includes(choices(answer), item)),
  includes_all: (answer, value) => values(value).every((item) => includes(choices(answer), item)),
  count_gte: (answer, value) => isNumber(value) && choices(answer).length >= value,
  before: (answer, value) => ordered(answer, value) && answer < value,
  after: (answer, value) => ordered(answer, value) && answer > value,
  checked: (answer) => answer === true,
  uploaded: (answer) => !isEmpty(answer),
};
// Each negative operator is exactly "not" its positive, so "is not" holds for no answer.
const NEGATIVE = {
  not_empty: "empty",
  not_equals: "equals",
  not_contains: "contains",
  ne: "eq",
  is_not: "is",
  none_of: "any_of",
  includes_none: "includes_any",
  not_checked: "checked",
  not_uploaded: "uploaded",
};

/**
 * Whether `condition` holds for `answers` (an object keyed by field); no condition (null or
 * undefined) always holds. `named` is the form's named conditions, by name. An unknown
 * operator or name holds nothing rather than throwing, so an old version never breaks a page.
 */
export function evaluate(condition, answers, named = null) {
  if (condition == null) return true;
  if ("all" in condition) return condition.all.every((part) => evaluate(part, answers, named));
  if ("any" in condition) return condition.any.some((part) => evaluate(part, answers, named));
  if ("not" in condition) return !evaluate(condition.not, answers, named);
  if ("condition" in condition) {
    const target = has(named, condition.condition) ? named[condition.condition] : null;
    return target != null && evaluate(target, answers, null); // a named one names no other
  }
  return holds(condition, answers);
}

function holds(condition, answers) {
  const answer = has(answers, condition.field) ? answers[condition.field] : null;
  const value = condition.value ?? null;
  const operator = condition.op;
  if (has(NEGATIVE, operator)) return !POSITIVE[NEGATIVE[operator]](answer, value);
  return has(POSITIVE, operator) && Boolean(POSITIVE[operator](answer, value));
}

function readFlow(schema) {
  const fields = schema.fields || [];
  const onePage = { id: FIRST_PAGE_ID, fields: fields.map((item) => item.key) };
  const pages = schema.pages?.length ? schema.pages : [onePage];
  const fieldConditions = new Map();
  for (const item of fields) if (item.show_if != null) fieldConditions.set(item.key, item.show_if);
  return { pages, fieldConditions, named: schema.conditions || {} };
}

// Where page number `index` leads: a page id, SUBMIT, or null for the next page in order.
function nextPageId(flow, index, answers) {
  const page = flow.pages[index];
  const route = (page.routes || []).find((each) => evaluate(each.if, answers, flow.named));
  if (route) return route.goto;
  if (page.default != null) return page.default;
  return index === flow.pages.length - 1 ? SUBMIT : null;
}

function indexOfPage(flow, pageId, from) {
  const index = flow.pages.findIndex((page) => page.id === pageId);
  // Publishing refuses both; the server's walk fails on the first and never ends on the second.
  if (index === -1) throw new Error(`flow: there is no page "${pageId}"`);
  if (index <= from) throw new Error(`flow: a route leads back to page "${pageId}"`);
  return index;
}

/**
 * Follow `answers` through a version's (or a draft's) `schema` from the first page to submit,
 * or until page `stopAt`, which is then the last of the path, its own questions not yet judged.
 * A page whose show_if fails is skipped; a question whose show_if fails is hidden and its
 * answer not kept. `alwaysKept` (an array or Set) lists the keys kept whatever is shown: a
 * link's hidden values.
 *
 * Returns `{path, visible, answers, complete}`: the ids of the pages shown, in order; a Set of
 * the keys of the questions shown; the answers kept (those of shown questions, and the always
 * kept); and whether the walk reached submit rather than stopping at `stopAt`.
 */
export function walk(schema, answers, { alwaysKept = [], stopAt = null } = {}) {
  const flow = readFlow(schema);
  const kept = {};
  for (const key of alwaysKept) if (has(answers, key)) kept[key] = answers[key];
  const path = [];
  const visible = new Set();
  let index = 0;
  while (index < flow.pages.length) {
    const page = flow.pages[index];
    if (!evaluate(page.show_if, kept, flow.named)) {
      index += 1;
      continue;
    }
    path.push(page.id);
    if (page.id === stopAt) return { path, visible, answers: kept, complete: false };
    // In page order, against what is kept so far: a question may depend on one above it.
    for (const key of page.fields || []) {
      if (!evaluate(flow.fieldConditions.get(key), kept, flow.named)) continue;
      visible.add(key);
      if (has(answers, key)) kept[key] = answers[key];
    }
    const target = nextPageId(flow, index, kept);
    if (target === SUBMIT) break;
    index = target === null ? index + 1 : indexOfPage(flow, target, index);
  }
  return { path, visible, answers: kept, complete: true };
}
