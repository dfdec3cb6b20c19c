"""What a member reads about the growth rewards of a money event: a level up and new badges."""
from __future__ import annotations

from bots import formatting as fmt
from bots.i18n import t


def reward_lines(lang: str, rewards) -> list[str]:
    """The level-up line, then one line per new badge, of an `app.services.rewards.Rewards` (or None)."""
    if rewards is None:
        return []
    lines = [t(lang, "growth.badge", badge=t(lang, f"badge.{b.badge_code}")) for b in rewards.badges]
    if rewards.level_change is not None:
        lines.insert(0, t(lang, "growth.level_up", level=fmt.digits(lang, rewards.level_change.new_level)))
    return lines


def with_rewards(text: str, lang: str, rewards) -> str:
    """`text` followed by the reward lines, a blank line apart."""
    return "\n\n".join([text, *reward_lines(lang, rewards)])


def referral_bonus_text(lang: str, reward) -> str | None:
    """What the referrer reads about the bonus a referee's first purchase earned them (None if nothing)."""
    if reward is None or not (reward.toman or reward.xp):
        return None
    text = t(lang, "growth.referral_bonus", amount=fmt.money(lang, reward.toman), xp=fmt.number(lang, reward.xp))
    if reward.level_change is None:
        return text
    return "\n\n".join([text, t(lang, "growth.level_up", level=fmt.digits(lang, reward.level_change.new_level))])
