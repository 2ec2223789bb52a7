// The inbox list: select all rows, and exports that show their progress in the page.
// Without JavaScript the checkboxes and the export links work as they are.

const selectAll = document.querySelector("[data-select-all]");
if (selectAll) {
  const boxes = () => document.querySelectorAll('input[name="ids"]');
  selectAll.addEventListener("change", () => {
    for (const box of boxes()) box.checked = selectAll.checked;
  });
}

const progressBox = document.querySelector("[data-export-progress]");

function filenameFrom(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(header);
  return match ? match[1] : fallback;
}

function countLines(chunk) {
  let lines = 0;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  return lines;
}

function formatBytes(bytes) {
  return bytes < 1048576 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

async function download(link) {
  const bar = progressBox.querySelector("progress");
  const status = progressBox.querySelector("[data-export-status]");
  progressBox.hidden = false;
  bar.removeAttribute("value");
  status.textContent = "Preparing the export…";
  const response = await fetch(link.href, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const total = Number(response.headers.get("X-Export-Rows") || 0);
  const countsRows = !link.href.includes("format=xlsx");
  const reader = response.body.getReader();
  const chunks = [];
  let bytes = 0;
  let rows = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.length;
    if (countsRows) rows += countLines(value);
    if (countsRows && total) {
      bar.max = total;
      bar.value = Math.min(rows, total);
      status.textContent = `${Math.min(rows, total).toLocaleString()} of ${total.toLocaleString()} rows (${formatBytes(bytes)})`;
    } else {
      status.textContent = `${formatBytes(bytes)} received`;
    }
  }
  const blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "" });
  const url = URL.createObjectURL(blob);
  const save = document.createElement("a");
  save.href = url;
  save.download = filenameFrom(response, "submissions");
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  bar.max = 1;
  bar.value = 1;
  status.textContent = `Export ready: ${total.toLocaleString()} rows, ${formatBytes(bytes)}.`;
}

for (const link of document.querySelectorAll("[data-export]")) {
  link.addEventListener("click", (event) => {
    if (!progressBox || !window.ReadableStream) return; // the plain download works too
    event.preventDefault();
    download(link).catch((error) => {
      progressBox.querySelector("[data-export-status]").textContent = `The export failed: ${error.message}`;
    });
  });
}
