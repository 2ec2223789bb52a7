"""The reliability suite: bounded loads on the public form while servers fail, counting the
submissions acknowledged to clients against the rows stored. Run it with ``make reliability``
or ``python -m tests.reliability --help``."""
