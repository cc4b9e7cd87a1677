"""A user's own reminder preferences (``portal_notification_prefs``), set on the reminders page
or ``PUT /api/v1/me/reminder-preferences`` and read by ``labcal-cloud scheduler plan``
(``scheduler/due_planning.py``) through the same row.

Preferences are checked by ``notify.recipients.checked_preferences``: the planner's own rules
plus the ones a person should be told about instead of the planner silently skipping a channel.
"""

from __future__ import annotations

from collections.abc import Sequence

from labcal_cloud.accounts.errors import InvalidInputError
from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.recipients import StoredPreferences, checked_preferences, recipient_for

__all__ = ["NotificationPrefs", "unusable"]

_COLUMNS = "channels, phone, push_token, time_zone, quiet_start, quiet_end"


def unusable(prefs: StoredPreferences) -> str | None:
    """Why the planner falls back to the defaults for this row (e.g. one written in SQL)."""
    try:
        recipient_for("check", "check@invalid", prefs)
    except PolicyError as exc:
        return str(exc)
    return None


class NotificationPrefs:
    def __init__(self, db: Database) -> None:
        self._db = db

    def stored(self, user_id: str) -> StoredPreferences | None:
        """The user's row, or None: the planner then uses ``StoredPreferences()``."""
        row = self._db.one(
            f"SELECT {_COLUMNS} FROM portal_notification_prefs WHERE user_id = ?", (user_id,)
        )
        return StoredPreferences(*row) if row else None

    def of(self, user_id: str) -> StoredPreferences:
        """What the planner uses for this user: the stored row or the defaults."""
        return self.stored(user_id) or StoredPreferences()

    def save(
        self,
        user_id: str,
        channels: Sequence[str],
        *,
        phone: str = "",
        push_token: str = "",
        time_zone: str = "UTC",
        quiet_start: str | None = None,
        quiet_end: str | None = None,
    ) -> StoredPreferences:
        """Check and replace the user's preferences; ``InvalidInputError`` (422) says what is
        wrong."""
        for label, value in (("phone number", phone), ("push token", push_token)):
            if any(ord(c) < 32 or ord(c) == 127 for c in value):  # PostgreSQL refuses NUL
                raise InvalidInputError(f"the {label} contains control characters")
        try:
            prefs = checked_preferences(
                channels,
                phone=phone,
                push_token=push_token,
                time_zone=time_zone,
                quiet_start=quiet_start,
                quiet_end=quiet_end,
            )
        except PolicyError as exc:
            raise InvalidInputError(str(exc)) from exc
        self._db.execute(
            f"INSERT INTO portal_notification_prefs (user_id, {_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " channels = excluded.channels, phone = excluded.phone,"
            " push_token = excluded.push_token, time_zone = excluded.time_zone,"
            " quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end",
            (
                user_id,
                prefs.channels,
                prefs.phone,
                prefs.push_token,
                prefs.time_zone,
                prefs.quiet_start,
                prefs.quiet_end,
            ),
        )
        return prefs

    def delete(self, user_id: str) -> None:
        """GDPR erasure: the phone number and push token go with the row."""
        self._db.execute("DELETE FROM portal_notification_prefs WHERE user_id = ?", (user_id,))
