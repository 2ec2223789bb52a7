"""Events other parts of the product react to, without the sender knowing them.

``submission_accepted`` is sent inside the transaction that stores a real (non-spam) submission,
or that moves one out of the spam folder, before it commits: receivers add their rows (such as
outgoing deliveries) to the same transaction, so either all of it is stored or none.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Form; keyword arguments: submission (a flushed Submission with its id).
submission_accepted = _signals.signal("submission-accepted")
