"""URL parts shared by the routes."""

# Ids in URLs, with the range of their column (app/request_checks.py): beyond it, 404 in the
# API's shape, counted by the rate limit, before a view runs.
ID = "int"  # forms, webhooks: Integer columns
BIG_ID = "bigid"  # submissions: BigInteger
