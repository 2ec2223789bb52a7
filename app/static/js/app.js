// Progressive enhancement for admin pages. Everything works without it.

// Select a shown secret (temporary password, token) in one click so it can be copied.
for (const element of document.querySelectorAll("[data-select-on-click]")) {
  element.addEventListener("click", () => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  });
}
