"""Who acts: the roles (assistant/case/access.yaml), what each may open, and the team's accounts
for a shared deployment (users.json in the data home)."""

from __future__ import annotations

from assistant.case import access
from assistant.errors import Forbidden, ServiceError
from assistant.service import accounts
from assistant.service.accounts import User
from assistant.service.base import Actor, ServiceBase


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

    def sign_in(self, name: str, password: str, role: str | None = None) -> Actor:
        """The actor an account's name and password stand for (a team deployment's CLI and API).
        `role`, when given, must be the account's: nobody declares a role the account does not hold."""
        user = accounts.authenticate(name, password, self.store.home)
        if user is None:
            known = accounts.load(self.store.home).get((name or "").strip())
            if known is not None and not known.hash:
                raise Forbidden(f"{name} signs in through the identity provider: use the web app")
            raise Forbidden("wrong user name or password")
        if role and role != user.role:
            raise Forbidden(f"{user.name} is a {user.role}, not a {role}")
        return Actor(name=user.name, role=user.role)

    def add_account(self, name: str, role: str, password: str | None, *, reset: bool = False,
                    actor: Actor | None = None) -> User:
        """A new account; an existing name is refused unless `reset` (then its role and password change).
        Once an account that administers accounts exists, only such an account may do this."""
        self._require_account_admin(actor)
        if role not in access.rights():
            raise ServiceError(f"unknown role {role!r} (one of {', '.join(access.rights())})")
        return accounts.add(name, role, password, self.store.home, reset=reset)

    def remove_account(self, name: str, actor: Actor | None = None) -> None:
        self._require_account_admin(actor)
        accounts.remove(name, self.store.home)

    def _require_account_admin(self, actor: Actor | None) -> None:
        """The first accounts are added freely (someone has to start); after that, the team's accounts
        are changed by a role that administers them (access.yaml), signed in."""
        admins = [u for u in accounts.load(self.store.home).values() if access.administers_accounts(u.role)]
        if not admins:
            return
        if actor is None or not access.administers_accounts(actor.role) or actor.name not in {u.name for u in admins}:
            who = " or ".join(r.name for r in access.rights().values() if r.administers_accounts)
            raise Forbidden(f"the team's accounts are changed by a signed-in {who}")
