// The README's JavaScript receiver, exactly as written there, against a delivery Formyard
// signed (tests/test_webhooks.py writes it and runs `node --test` on this file, with
// FORMYARD_DELIVERY naming a JSON file of {secret, body, headers}). "standardwebhooks" is the
// npm package, vendored into ./node_modules by scripts/vendor.mjs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const snippet = readme.match(/```js\n(import \{ Webhook \} from "standardwebhooks";[\s\S]*?)```/)[1];
const library = new URL("node_modules/standardwebhooks/dist/index.js", import.meta.url);
// A data: module resolves no bare names, so the snippet's import points at the package's file.
const source = snippet.replace('from "standardwebhooks"', `from "${library.href}"`);
const { verifyFormyardDelivery } = await import(
  `data:text/javascript,${encodeURIComponent(source)}`
);

const deliveryFile = process.env.FORMYARD_DELIVERY;

test("the README's receiver accepts what Formyard signed", { skip: !deliveryFile }, () => {
  const { secret, body, headers, answers } = JSON.parse(readFileSync(deliveryFile, "utf8"));
  const payload = verifyFormyardDelivery(secret, body, headers);
  assert.deepEqual(payload.answers, answers);
});

test("and refuses it under another id, with another body or secret", { skip: !deliveryFile }, () => {
  const { secret, other_secret, body, headers } = JSON.parse(readFileSync(deliveryFile, "utf8"));
  const replayed = { ...headers, "webhook-id": "a-new-id" };
  assert.equal(verifyFormyardDelivery(secret, body, replayed), null);
  assert.equal(verifyFormyardDelivery(secret, `${body} `, headers), null);
  assert.equal(verifyFormyardDelivery(other_secret, body, headers), null);
});
