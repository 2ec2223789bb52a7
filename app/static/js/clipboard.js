// Copy buttons for read-only snippets: <button data-copy="id-of-textarea" hidden>. Without
// JavaScript the buttons stay hidden and the text can be selected and copied by hand.
const status = document.querySelector("[data-copy-status]");

for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.value);
      say("Copied.");
    } catch {
      source.focus();
      source.select();
      say("Selected: press Ctrl+C, or ⌘C on a Mac, to copy.");
    }
  });
}

function say(message) {
  if (!status) return;
  status.textContent = "";
  window.setTimeout(() => {
    status.textContent = message;
  }, 50);
}
