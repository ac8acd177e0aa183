"""People who may sign in: users with hashed passwords and roles, and their browser sessions."""

from __future__ import annotations

from tieout.people.users import (
    User,
    add_user,
    get_user,
    list_users,
    set_disabled,
    set_password,
    team_members,
    verify_login,
)

__all__ = ["User", "add_user", "get_user", "list_users", "set_disabled", "set_password", "team_members",
           "verify_login"]
