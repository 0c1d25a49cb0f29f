"""Who acts: the roles (assistant/case/access.yaml), what each may open, and the team's accounts
for a shared deployment (users.json in the data home)."""

from __future__ import annotations

from assistant.case import access
from assistant.errors import ServiceError
from assistant.service import accounts
from assistant.service.accounts import User
from assistant.service.base import ServiceBase


class PeopleOps(ServiceBase):
    def roles(self, lang: str = "en") -> dict[str, str]:
        """Each role and its label, in the order of access.yaml."""
        return {name: r.label.get(lang) or name for name, r in access.rights().items()}

    def may_view(self, role: str, view: str) -> bool:
        return access.may_view(role, view)

    def require_view(self, role: str, view: str) -> None:
        """Forbidden (a ServiceError) when `role` may not open `view`."""
        access.require_view(role, view)

    # -- accounts ---------------------------------------------------------------------------
    def login_required(self) -> bool:
        """Whether the app asks for a login (accounts exist in this data home)."""
        return accounts.login_required(self.store.home)

    def authenticate(self, name: str, password: str) -> User | None:
        return accounts.authenticate(name, password, self.store.home)

    def account_for_identity(self, email: str) -> User | None:
        """The account an identity provider's e-mail maps to, or None."""
        return accounts.for_identity(email, self.store.home)

    def accounts(self) -> list[User]:
        return list(accounts.load(self.store.home).values())

    def add_account(self, name: str, role: str, password: str | None, *, reset: bool = False) -> User:
        """A new account; an existing name is refused unless `reset` (then its role and password change)."""
        if role not in access.rights():
            raise ServiceError(f"unknown role {role!r} (one of {', '.join(access.rights())})")
        return accounts.add(name, role, password, self.store.home, reset=reset)

    def remove_account(self, name: str) -> None:
        accounts.remove(name, self.store.home)
