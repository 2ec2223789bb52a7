// Respondent pages: check each field as it is left, and tell an embedding page our height.
// The server checks everything again; without this script the form works the same.

import { evaluate } from "./flow-logic.js";

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

// Questions shown only if an answer on the same page says so: the server renders them with
// their condition in words, and judges them again; here they appear and disappear as answers
// change. A hidden question's inputs are disabled, so its answer is not sent.
function currentAnswers(form) {
  const answers = {};
  for (const container of form.querySelectorAll("[data-field]")) {
    const key = container.dataset.field;
    const inputs = [...container.querySelectorAll("input, select, textarea")].filter(
      (input) => !input.disabled && input.name === key,
    );
    if (!inputs.length) continue;
    answers[key] = answerOf(inputs);
  }
  return answers;
}

function answerOf(inputs) {
  const [first] = inputs;
  if (first.type === "checkbox" && inputs.length === 1 && !first.closest("fieldset")) {
    return first.checked; // a consent box
  }
  if (first.type === "checkbox") return inputs.filter((each) => each.checked).map((each) => each.value);
  if (first.type === "radio") return inputs.find((each) => each.checked)?.value ?? null;
  if (first.type === "file") return first.files.length ? { name: first.files[0].name } : null;
  if (first.tagName === "SELECT" && first.multiple) {
    return [...first.selectedOptions].map((option) => option.value);
  }
  const value = first.value.trim();
  if (value === "") return null;
  if (first.type === "number" || first.dataset.answer === "number") {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  if (first.type === "time") return value.slice(0, 5); // stored as HH:MM
  return value;
}

function showQuestions(form, conditional, named) {
  const answers = currentAnswers(form);
  for (const container of conditional) {
    const shown = evaluate(JSON.parse(container.dataset.showIf), answers, named);
    container.hidden = !shown;
    for (const input of container.querySelectorAll("input, select, textarea")) {
      input.disabled = !shown;
    }
    if (!shown) delete answers[container.dataset.field]; // later conditions see it hidden
  }
}

if (form) {
  const conditional = [...form.querySelectorAll("[data-show-if]")];
  if (conditional.length) {
    const named = JSON.parse(form.dataset.conditions || "null");
    form.classList.add("flow-enhanced");
    const update = () => showQuestions(form, conditional, named);
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }
}


if (form && document.querySelector("[data-proof-of-work]")) {
  import("./proof-of-work.js");
}
