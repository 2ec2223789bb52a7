"""Who must use two-step verification: a site setting the owner chooses."""

from __future__ import annotations

from app.exceptions import ValidationFailed
from app.extensions import db
from app.models import Role
from app.models import SiteSetting
from app.models import TwoStepPolicy
from app.models import User
from app.services.audit.recording import record

SETTING_NAME = "two_step_required_for"
POLICY_LABELS = {
    TwoStepPolicy.OPTIONAL: "Nobody: each person chooses",
    TwoStepPolicy.OWNERS_AND_EDITORS: "Owners and editors",
    TwoStepPolicy.EVERYONE: "Everyone",
}


def current_policy() -> TwoStepPolicy:
    setting = db.session.get(SiteSetting, SETTING_NAME)
    try:
        return TwoStepPolicy(setting.value) if setting else TwoStepPolicy.OPTIONAL
    except ValueError:  # a value from a newer version of Formyard
        return TwoStepPolicy.OPTIONAL


def set_policy(value: str | TwoStepPolicy) -> TwoStepPolicy:
    try:
        policy = TwoStepPolicy(value)
    except ValueError:
        raise ValidationFailed(
            "Choose who must use two-step verification.", field="policy"
        ) from None
    setting = db.session.get(SiteSetting, SETTING_NAME)
    if setting is None:
        db.session.add(SiteSetting(name=SETTING_NAME, value=policy.value))
    else:
        setting.value = policy.value
    record("two_step.policy_changed", details={"policy": policy.value})
    db.session.commit()
    return policy


def requires_two_step(user: User, policy: TwoStepPolicy | None = None) -> bool:
    policy = policy or current_policy()
    if policy == TwoStepPolicy.EVERYONE:
        return True
    return policy == TwoStepPolicy.OWNERS_AND_EDITORS and user.role.includes(Role.EDITOR)
