// Copies the built files of our npm packages into app/static/vendor/ (committed).
// Run `npm ci && npm run vendor` after changing package.json.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const vendor = join(root, "app/static/vendor");

const files = {
  "chart.js/dist/chart.umd.min.js": "chart.js/chart.umd.min.js",
  "chart.js/LICENSE.md": "chart.js/LICENSE.md",
  "@picocss/pico/css/pico.min.css": "pico/pico.min.css",
  "@picocss/pico/LICENSE.md": "pico/LICENSE.md",
  "sortablejs/modular/sortable.esm.js": "sortablejs/sortable.esm.js",
  "sortablejs/LICENSE": "sortablejs/LICENSE",
};

rmSync(vendor, { recursive: true, force: true });
for (const [from, to] of Object.entries(files)) {
  const target = join(vendor, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, "node_modules", from), target);
  console.log(`vendored ${from} -> app/static/vendor/${to}`);
}
