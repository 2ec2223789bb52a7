// The browser's flow (app/static/js/flow-logic.js) against the case file the Python engine
// (app/flow) is held to as well. Run with `node --test tests/flow/`; tests/test_flow.py does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { evaluate, walk } from "../../app/static/js/flow-logic.js";

const cases = JSON.parse(readFileSync(new URL("cases.json", import.meta.url), "utf8"));
const show = (value) => JSON.stringify(value);

describe("a condition holds as the case file says", () => {
  for (const group of cases.operators) {
    describe(`${group.kind}: ${show(group.condition)}`, () => {
      for (const item of group.cases) {
        test(`${show(item.answers)} ${item.holds ? "holds" : "does not hold"}`, () => {
          assert.equal(evaluate(group.condition, item.answers, cases.named), item.holds);
        });
      }
    });
  }
});

describe("a walk shows and keeps what the case file says", () => {
  for (const flow of cases.flows) {
    describe(flow.name, () => {
      for (const item of flow.cases) {
        const upTo = item.stop_at ? ` up to "${item.stop_at}"` : "";
        test(`${show(item.answers)}${upTo} goes ${item.path.join(" > ")}`, () => {
          const walked = walk(flow.schema, item.answers, {
            alwaysKept: flow.always_kept,
            stopAt: item.stop_at ?? null,
          });
          assert.deepEqual(walked.path, item.path);
          assert.ok(walked.visible instanceof Set);
          assert.deepEqual([...walked.visible].sort(), [...item.visible].sort());
          assert.deepEqual(walked.answers, item.kept);
          // A walk stops short exactly when the page asked for is on its path.
          assert.equal(walked.complete, !item.path.includes(item.stop_at));
        });
      }
    });
  }
});
