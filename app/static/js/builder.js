// The form builder without page reloads. Every form marked data-enhance is sent with fetch and
// answered in JSON; the server renders the question list, the preview and the publish state,
// which are swapped in. Without JavaScript the same forms post normally and the server redirects.
import Sortable from "../vendor/sortablejs/sortable.esm.js";

const root = document.querySelector("[data-builder]");
if (root) setUpBuilder(root);

function setUpBuilder(root) {
  const list = root.querySelector('[data-region="fields"]');
  const announcer = root.querySelector("[data-announcer]");
  const pageErrors = root.querySelector("[data-page-errors]");
  let editor = null; // the open question editor: { key, element }
  let queue = Promise.resolve(); // one change at a time, so answers arrive in order
  let orderBeforeDrag = [];

  const sortable = Sortable.create(list, {
    handle: "[data-handle]",
    draggable: ".field-item",
    dataIdAttr: "data-key",
    animation: 150,
    onStart() {
      orderBeforeDrag = sortable.toArray();
    },
    onEnd(event) {
      if (event.oldIndex !== event.newIndex) enqueue(() => saveOrder(event.item.dataset.key));
    },
  });
  showHandles();

  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-enhance]");
    if (!form) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const submitter = event.submitter;
    enqueue(() => submit(form, submitter));
  });

  root.addEventListener("click", (event) => {
    const editLink = event.target.closest("[data-edit-field]");
    if (editLink) {
      event.preventDefault();
      enqueue(() => openEditor(editLink.closest("[data-key]").dataset.key));
      return;
    }
    if (event.target.closest("[data-close-editor]")) {
      event.preventDefault();
      closeEditor({ focus: true });
    }
  });

  root.addEventListener("keydown", (event) => {
    const handle = event.target.closest("[data-handle]");
    if (!handle || !event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
    event.preventDefault();
    const item = handle.closest("[data-key]");
    const direction = event.key === "ArrowUp" ? "up" : "down";
    enqueue(() => moveByKeyboard(item, direction));
  });

  function enqueue(task) {
    queue = queue.then(task).catch((error) => {
      showPageError("Something went wrong in this page. Reload it and try again.");
      console.error(error);
    });
  }

  async function submit(form, submitter) {
    const data = new FormData(form);
    if (submitter?.name) data.set(submitter.name, submitter.value);
    form.setAttribute("aria-busy", "true");
    const result = await send(form.action, { body: new URLSearchParams(data) });
    form.removeAttribute("aria-busy");
    if (!result.ok) {
      showErrors(form, result.data.error);
      return;
    }
    apply(result.data);
    await afterSubmit(form.dataset.enhance, result.data, submitter);
  }

  async function afterSubmit(action, data, submitter) {
    const key = data.field?.key;
    if (action === "add") {
      await openEditor(key);
    } else if (action === "edit-field") {
      closeEditor({ focus: false });
      focusIn(key, "[data-edit-field]");
    } else if (action === "move") {
      const direction = submitter?.value ?? "up";
      const other = direction === "up" ? "down" : "up";
      focusIn(key, `button[value="${direction}"]:not([disabled])`) ||
        focusIn(key, `button[value="${other}"]`);
    } else if (action === "duplicate") {
      focusIn(key, "[data-edit-field]");
    } else if (action === "delete") {
      root.querySelector("#fields-heading")?.focus();
    } else if (action === "publish") {
      // Published: the button is now disabled, so the sentence saying what is live takes focus.
      root.querySelector('[data-region="status"] .publish-summary')?.focus();
    }
  }

  async function moveByKeyboard(item, direction) {
    const result = await send(item.dataset.moveUrl, { json: { direction } });
    if (!result.ok) {
      showPageError(result.data.error.message);
      return;
    }
    apply(result.data);
    focusIn(item.dataset.key, "[data-handle]");
  }

  async function saveOrder(movedKey) {
    const order = sortable.toArray();
    const result = await send(root.dataset.orderUrl, { json: { order } });
    if (!result.ok) {
      sortable.sort(orderBeforeDrag, true);
      showPageError(result.data.error.message);
      return;
    }
    apply(result.data);
    focusIn(movedKey, "[data-handle]");
  }

  async function openEditor(key) {
    const item = itemFor(key);
    const link = item?.querySelector("[data-edit-field]");
    if (!link) return;
    const result = await send(link.href, { method: "GET" });
    if (!result.ok) {
      showPageError(result.data.error.message);
      return;
    }
    closeEditor({ focus: false });
    const slot = item.querySelector("[data-editor-slot]");
    slot.innerHTML = result.data.html;
    editor = { key, element: slot.firstElementChild };
    link.setAttribute("aria-expanded", "true");
    slot.querySelector("input:not([type=hidden]), textarea, select")?.focus();
  }

  function closeEditor({ focus }) {
    if (!editor) return;
    const { key, element } = editor;
    element.remove();
    editor = null;
    const link = itemFor(key)?.querySelector("[data-edit-field]");
    link?.setAttribute("aria-expanded", "false");
    if (focus) link?.focus();
  }

  // --- the server's answer -------------------------------------------------------------------

  function apply(data) {
    clearPageErrors();
    if (data.html) {
      swap("status", data.html.status);
      swap("preview", data.html.preview);
      swap("fields", data.html.fields);
      keepEditorOpen();
      showHandles();
    }
    if (data.form) {
      for (const title of root.querySelectorAll("[data-form-title]")) title.textContent = data.form.title;
      const publicLink = root.querySelector("[data-public-link]");
      if (publicLink) publicLink.href = data.form.urls.public;
      document.title = `Build “${data.form.title}” · Formyard`;
    }
    if (data.message) announce(data.message);
  }

  function swap(region, html) {
    const element = root.querySelector(`[data-region="${region}"]`);
    if (element && html !== undefined) element.innerHTML = html;
  }

  // An editor left open on another question stays open when the list is redrawn.
  function keepEditorOpen() {
    if (!editor) return;
    const slot = itemFor(editor.key)?.querySelector("[data-editor-slot]");
    if (slot) {
      slot.append(editor.element);
      slot.closest("[data-key]").querySelector("[data-edit-field]").setAttribute("aria-expanded", "true");
    } else {
      editor = null;
    }
  }

  function showHandles() {
    for (const handle of list.querySelectorAll("[data-handle]")) handle.hidden = false;
  }

  function itemFor(key) {
    return key ? list.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  }

  function focusIn(key, selector) {
    const target = itemFor(key)?.querySelector(selector);
    target?.focus();
    return Boolean(target);
  }

  function announce(message) {
    // Cleared first, so the same message twice in a row is read out twice.
    announcer.textContent = "";
    window.setTimeout(() => {
      announcer.textContent = message;
    }, 50);
  }

  // --- errors ------------------------------------------------------------------------------------

  function showErrors(form, error) {
    clearErrors(form);
    let first = null;
    for (const [path, messages] of Object.entries(error.details ?? {})) {
      const input = inputFor(form, path);
      if (!input) continue;
      placeError(input, messages.join(" "));
      first ??= input;
    }
    if (first) {
      first.focus();
      announce(error.message);
    } else if (form.matches(".field-editor, [data-enhance=details]")) {
      const box = document.createElement("div");
      box.className = "form-errors";
      box.setAttribute("role", "alert");
      box.dataset.clientError = "";
      box.append(paragraph(error.message));
      form.prepend(box);
    } else {
      showPageError(error.message);
    }
  }

  function inputFor(form, path) {
    const found = form.elements.namedItem(inputName(path));
    return found instanceof RadioNodeList ? found[0] : found;
  }

  function placeError(input, message) {
    const group = input.closest("fieldset.field-group");
    const owner = group ?? input;
    const small = document.createElement("small");
    small.className = "field-error";
    small.id = `${owner.id || input.name}-error`;
    small.dataset.clientError = "";
    small.textContent = message;
    if (group) {
      group.querySelector(".choices")?.before(small);
    } else {
      const help = document.getElementById(`${input.id}-help`);
      (help ?? input.closest("label") ?? input).after(small);
    }
    input.setAttribute("aria-invalid", "true");
    const described = (owner.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    owner.setAttribute("aria-describedby", [...described, small.id].join(" "));
  }

  function clearErrors(form) {
    for (const element of form.querySelectorAll(".field-error, .form-errors")) element.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    for (const owner of form.querySelectorAll("[aria-describedby]")) {
      const kept = owner.getAttribute("aria-describedby").split(" ").filter((id) => !id.endsWith("-error"));
      if (kept.length) owner.setAttribute("aria-describedby", kept.join(" "));
      else owner.removeAttribute("aria-describedby");
    }
  }

  function showPageError(message) {
    pageErrors.replaceChildren(paragraph(message));
    pageErrors.hidden = false;
    pageErrors.scrollIntoView({ block: "nearest" });
  }

  function clearPageErrors() {
    pageErrors.replaceChildren();
    pageErrors.hidden = true;
  }
}

// The input that shows the setting at a server path, as app/builder/forms.py input_name_for:
// "fields[3].rules.max_length" is rule_max_length, "fields[0].key" is key, "slug" is slug.
function inputName(path) {
  const match = /^fields\[\d+\]\.(.+)$/.exec(path);
  const setting = match ? match[1] : path;
  if (setting.startsWith("rules.")) return `rule_${setting.slice(6).split(/[.[]/)[0]}`;
  return setting.split(/[.[]/)[0];
}

function paragraph(text) {
  const element = document.createElement("p");
  element.textContent = text;
  return element;
}

function csrfToken() {
  return document.querySelector('input[name="csrf_token"]')?.value ?? "";
}

async function send(url, { method = "POST", body, json } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch {
    return failure("The server could not be reached. Check the connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    return failure(`The server answered ${response.status}. Reload the page and try again.`);
  }
  return response.ok ? { ok: true, data } : { ok: false, data: data.error ? data : failure("").data };
}

function failure(message) {
  return { ok: false, data: { error: { message: message || "That did not work. Try again." } } };
}
