// Copy buttons for read-only snippets and one-time secrets: <button data-copy="id" hidden>,
// the id of a textarea or of any element whose text is copied. Without JavaScript the buttons
// stay hidden and the text can be selected and copied by hand.
const status = document.querySelector("[data-copy-status]");

for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const text = "value" in source ? source.value : source.innerText.trim();
    try {
      await navigator.clipboard.writeText(text);
      say("Copied.");
    } catch {
      select(source);
      say("Selected: press Ctrl+C, or ⌘C on a Mac, to copy.");
    }
  });
}

function select(source) {
  if ("select" in source) {
    source.focus();
    source.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(source);
  window.getSelection().removeAllRanges();
  window.getSelection().addRange(range);
}

function say(message) {
  if (!status) return;
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = message;
  }, 50);
}
