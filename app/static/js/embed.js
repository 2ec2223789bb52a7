// For pages that embed a Formyard form: <script src=".../static/js/embed.js" async></script>
// Resizes each iframe.formyard-embed to the height its form reports.
window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "formyard:height") return;
  for (const frame of document.querySelectorAll("iframe.formyard-embed")) {
    if (frame.contentWindow === event.source) frame.style.height = `${Math.ceil(event.data.height)}px`;
  }
});
