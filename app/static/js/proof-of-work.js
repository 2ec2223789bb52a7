// Proof of work (ALTCHA): the vendored widget fetches the form's challenge and solves it in a
// web worker served from this site (the CSP allows no other), then puts its solution in the
// form's "altcha" field. Without this script the form still sends (see README, "Spam").

const holder = document.querySelector("[data-proof-of-work]");

if (holder) {
  const styles = document.createElement("link");
  styles.rel = "stylesheet";
  styles.href = holder.dataset.styles;
  document.head.append(styles);
  await import("../vendor/altcha/altcha.min.js");
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(holder.dataset.worker));
  const widget = document.createElement("altcha-widget");
  widget.setAttribute("challenge", holder.dataset.proofOfWork);
  widget.setAttribute("name", "altcha");
  widget.setAttribute("auto", "onload");
  // The widget's links to altcha.org would be one more thing to read and tab past.
  widget.setAttribute("configuration", JSON.stringify({ hideLogo: true, hideFooter: true }));
  holder.append(widget);
}
