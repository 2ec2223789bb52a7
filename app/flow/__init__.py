"""Form flow: pages, the routes between them and conditions over earlier answers, evaluated
on the server (and, the same JSON, in the browser)."""
