"""Events other parts of the product react to, without the sender knowing them.

``submission_accepted`` is sent inside the transaction that stores a real (non-spam) submission,
or that moves one out of the spam folder, before it commits: receivers add their rows (such as
outgoing deliveries) to the same transaction, so either all of it is stored or none.

``submission_needs_transaction`` asks first, before a submission is stored: a receiver that
would add rows for the form answers True. When none does, the submission is stored in a
transaction of its own, which is quicker (app/services/submissions/rows.py), and
``submission_accepted`` follows once it is committed.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Form; keyword arguments: submission (a Submission with its id, stored).
submission_accepted = _signals.signal("submission-accepted")

# sender: the Form, before a submission to it is stored; receivers return True or False.
submission_needs_transaction = _signals.signal("submission-needs-transaction")


def needs_transaction(form) -> bool:
    """Whether a receiver of ``submission_accepted`` would add rows for a submission to ``form``."""
    return any(answer for _receiver, answer in submission_needs_transaction.send(form))
