"""URL parts shared by the routes."""

# Ids in URLs: any number of digits. One beyond the columns' range names no row, and the
# services answer 404 for it (a routing converter's maximum would answer before the API's error
# handlers and rate limit see the request).
ID = "int"  # forms, webhooks
BIG_ID = "int"  # submissions
