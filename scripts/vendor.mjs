// Copies the built files of our npm packages into app/static/vendor/ (committed), and the
// files only tests use (axe-core, @formspree/core) into tests/browser/vendor/, so they are never served;
// standardwebhooks and its two dependencies go to tests/webhooks/node_modules/ as npm lays
// them out, so the README's receiver code imports "standardwebhooks" there unchanged.
// Run `npm ci && npm run vendor` after changing package.json.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const vendor = join(root, "app/static/vendor");
const testVendor = join(root, "tests/browser/vendor");
const webhookVendor = join(root, "tests/webhooks/node_modules");

const files = {
  // The proof-of-work widget, built for a strict CSP: its styles and its web worker are files
  // of their own (app/static/js/proof-of-work.js registers the worker).
  "altcha/dist/external/altcha.min.js": "altcha/altcha.min.js",
  "altcha/dist/external/altcha.css": "altcha/altcha.css",
  "altcha/dist/workers/pbkdf2.js": "altcha/pbkdf2.js",
  // The whole widget in one classic script (workers and styles inside), for static sites'
  // own pages: the snippet the Share page shows.
  "altcha/dist/main/altcha.umd.min.cjs": "altcha/altcha.site.min.js",
  "altcha/LICENSE.txt": "altcha/LICENSE.txt",
  "chart.js/dist/chart.umd.min.js": "chart.js/chart.umd.min.js",
  "chart.js/LICENSE.md": "chart.js/LICENSE.md",
  "@picocss/pico/css/pico.min.css": "pico/pico.min.css",
  "@picocss/pico/LICENSE.md": "pico/LICENSE.md",
  "sortablejs/modular/sortable.esm.js": "sortablejs/sortable.esm.js",
  "sortablejs/LICENSE": "sortablejs/LICENSE",
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
  "swagger-ui-dist/LICENSE": "swagger-ui/LICENSE",
  "swagger-ui-dist/NOTICE": "swagger-ui/NOTICE",
};
// Test-only assets: the accessibility checker the browser tests inject into pages, and
// Formspree's own client, which a test points at Formyard from another website.
const testFiles = {
  "axe-core/axe.min.js": "axe.min.js",
  "axe-core/LICENSE": "axe-core.LICENSE",
  "@formspree/core/dist/index.mjs": "formspree-core.mjs",
  "@formspree/core/LICENSE": "formspree-core.LICENSE",
};

// Test-only: what verifies Formyard's webhooks the way a JavaScript receiver does.
const webhookFiles = Object.fromEntries(
  [
    "standardwebhooks/package.json",
    "standardwebhooks/dist/index.js",
    "standardwebhooks/dist/timing_safe_equal.js",
    "@stablelib/base64/package.json",
    "@stablelib/base64/lib/base64.js",
    "@stablelib/base64/LICENSE",
    "fast-sha256/package.json",
    "fast-sha256/sha256.js",
    "fast-sha256/LICENSE",
  ].map((path) => [path, path]),
);

function copyAll(map, folder) {
  rmSync(folder, { recursive: true, force: true });
  for (const [from, to] of Object.entries(map)) {
    const target = join(folder, to);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(root, "node_modules", from), target);
    console.log(`vendored ${from} -> ${target.slice(root.length)}`);
  }
}

copyAll(files, vendor);
copyAll(testFiles, testVendor);
copyAll(webhookFiles, webhookVendor);
