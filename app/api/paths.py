"""URL parts shared by the routes."""

from app.models.types import MAX_BIG_ID
from app.models.types import MAX_ID

# Ids in URLs. A larger number names no row, so it answers 404 at routing.
ID = f"int(max={MAX_ID})"  # forms, webhooks
BIG_ID = f"int(max={MAX_BIG_ID})"  # submissions
