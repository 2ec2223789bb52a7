// Respondent pages: check each field as it is left, and tell an embedding page our height.
// The server checks everything again; without this script the form works the same.

const form = document.querySelector("[data-respondent-form]:not([data-preview])");

function errorElement(container, id) {
  let element = container.querySelector(".field-error");
  if (!element) {
    element = document.createElement("small");
    element.className = "field-error";
    element.id = `${id}-error`;
    container.append(element);
  }
  return element;
}

function describe(input, messageId, on) {
  const target = input.closest("fieldset") || input;
  const ids = new Set((target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  if (on) ids.add(messageId); else ids.delete(messageId);
  if (ids.size) target.setAttribute("aria-describedby", [...ids].join(" "));
  else target.removeAttribute("aria-describedby");
}

// Messages appear when a field is left, and go away while it is being corrected (on input or
// change): removing one on leaving would move everything below under a click in progress.
function checkField(input, { clearOnly = false } = {}) {
  const container = input.closest("[data-field]");
  if (!container || input.type === "hidden") return;
  const id = (input.closest("fieldset") || input).id;
  const message = input.validity.valid ? "" : input.validationMessage;
  const inputs = container.querySelectorAll("input, select, textarea");
  if (message && clearOnly) return;
  if (message) {
    const element = errorElement(container, id);
    element.textContent = message;
    inputs.forEach((each) => each.setAttribute("aria-invalid", "true"));
    describe(input, element.id, true);
  } else {
    const element = container.querySelector(".field-error");
    if (element) {
      describe(input, element.id, false);
      element.remove();
    }
    inputs.forEach((each) => each.removeAttribute("aria-invalid"));
  }
}

if (form) {
  form.addEventListener("focusout", (event) => {
    if (event.target.matches("input, select, textarea")) checkField(event.target);
  });
  for (const type of ["input", "change"]) {
    form.addEventListener(type, (event) => {
      if (event.target.matches("input, select, textarea")) checkField(event.target, { clearOnly: true });
    });
  }
  // A double click must not send twice; the server also recognises the repeated token.
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    if (button) setTimeout(() => { button.disabled = true; }, 0);
  });
}

// Inside an iframe: report our height so the embedding page can size the frame.
if (window.parent !== window) {
  const report = () => window.parent.postMessage(
    { type: "formyard:height", height: document.documentElement.scrollHeight }, "*",
  );
  new ResizeObserver(report).observe(document.body);
  report();
}
