"""The yardstick for bench/forms_bench.py: a bare Flask hello-world, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
