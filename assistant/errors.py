"""The error every user-facing operation raises: what cannot be done as asked, in one line."""


class ServiceError(ValueError):
    """Something the user asked that cannot be done as asked, with the reason in one line."""
