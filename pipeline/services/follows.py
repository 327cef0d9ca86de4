"""Following projects, councils, services, tags and saved searches; how often each follow emails; one-click
unsubscribe."""

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import or_, select, update

from pipeline.database import begin_write, insert_ignoring_duplicates
from pipeline.extensions import db
from pipeline.models import (
    FOLLOW_TARGETS,
    FREQUENCIES,
    Council,
    Follow,
    NotificationSettings,
    Project,
    SavedSearch,
    Service,
    Tag,
    User,
)
from pipeline.models.follow import DEFAULT_FREQUENCY
from pipeline.services.errors import InvalidInput, NotFound
from pipeline.services.permissions import require_signed_in
from pipeline.timeutil import utcnow

UNSUBSCRIBE_SALT = "unsubscribe"
# An unsubscribe link keeps working for this long after its email was sent.
UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 90


@dataclass(frozen=True)
class Target:
    """Something that can be followed, with its name and the path of its page."""

    type: str
    id: int
    name: str
    path: str

    @property
    def description(self) -> str:
        """How an email or a settings page names it: 'new projects on Bulky waste', 'Leeds City Council'."""
        if self.type == "project":
            return self.name
        if self.type == "search":
            return f"new projects matching your saved search {self.name}"
        return f"new projects from {self.name}" if self.type == "council" else f"new projects on {self.name}"

    @property
    def kind_label(self) -> str:
        """What kind of thing it is, as the email settings page lists it."""
        if self.type == "project":
            return "Project"
        if self.type == "search":
            return "Saved search: new projects that match"
        return f"New projects: {self.type}"


def _target(kind: str, row) -> Target:
    if kind == "project":
        return Target(kind, row.id, row.title, f"/projects/{row.slug}")
    if kind == "council":
        return Target(kind, row.id, row.name, f"/councils/{row.slug}")
    if kind == "service":
        return Target(kind, row.id, row.label, f"/services/{row.id}")
    if kind == "search":
        return Target(kind, row.id, row.description, row.path)
    return Target(kind, row.id, row.name, f"/projects?tag={row.slug}")


TARGET_MODELS = {"project": Project, "council": Council, "service": Service, "tag": Tag, "search": SavedSearch}


def resolve_target(target_type: str, key: str | int, user: User) -> Target:
    """The target a follow form names: a tag by its slug, a saved search by its token (the user's own only),
    anything else by its id."""
    model = TARGET_MODELS.get(target_type)
    if model is None:
        raise NotFound()
    if target_type == "tag":
        row = db.session.scalar(select(Tag).where(Tag.slug == str(key)))
    elif target_type == "search":
        row = db.session.scalar(
            select(SavedSearch).where(SavedSearch.token == str(key)[:32], SavedSearch.user_id == user.id)
        )
    else:
        row = db.session.get(model, int(key)) if str(key).isdigit() else None
    if row is None:
        raise NotFound()
    return _target(target_type, row)


def targets_for(follows: list[Follow]) -> dict[tuple[str, int], Target]:
    """The targets of some follows, named: one statement per kind of target, whatever the number of follows."""
    ids: dict[str, set[int]] = {}
    for follow in follows:
        ids.setdefault(follow.target_type, set()).add(follow.target_id)
    found = {}
    for kind, wanted in ids.items():
        model = TARGET_MODELS.get(kind)
        if model is None:
            continue
        for row in db.session.scalars(select(model).where(model.id.in_(wanted))):
            found[(kind, row.id)] = _target(kind, row)
    return found


# ---- following ------------------------------------------------------------------------------


def auto_follow(user_id: int, project_id: int) -> None:
    """Follow a project for someone who took part in it, in the caller's transaction.

    A follow they ended themselves stays ended: taking part again does not quietly undo it.
    """
    db.session.execute(
        insert_ignoring_duplicates(
            Follow,
            {"user_id": user_id, "target_type": "project", "target_id": project_id, "created_at": utcnow()},
            ["user_id", "target_type", "target_id"],
        )
    )


def follow(user: User, target_type: str, key: str | int) -> tuple[Follow, Target]:
    """Follow a target; following something already followed changes nothing."""
    require_signed_in(user)
    begin_write()
    target = resolve_target(target_type, key, user)
    existing = start_following(user.id, target.type, target.id)
    db.session.commit()
    return existing, target


def start_following(user_id: int, target_type: str, target_id: int) -> Follow:
    """Follow a target in the caller's transaction: a new follow, or one the user had ended started again."""
    existing = _find(user_id, target_type, target_id)
    if existing is None:
        existing = Follow(user_id=user_id, target_type=target_type, target_id=target_id)
        db.session.add(existing)
    elif existing.unfollowed_at is not None:
        existing.unfollowed_at = None
        existing.frequency = None
    return existing


def stop_following(user_id: int, target_type: str, target_id: int) -> None:
    """End a follow in the caller's transaction (kept, ended, as `unfollow` does), if there is one."""
    db.session.execute(
        update(Follow)
        .where(
            Follow.user_id == user_id,
            Follow.target_type == target_type,
            Follow.target_id == target_id,
            Follow.unfollowed_at.is_(None),
        )
        .values(unfollowed_at=utcnow())
    )


def unfollow(user: User, follow_id: int) -> Target | None:
    """Stop following (the follow is kept, ended, so that taking part again does not restore it)."""
    require_signed_in(user)
    begin_write()
    existing = db.session.get(Follow, follow_id)
    if existing is None or existing.user_id != user.id:
        raise NotFound()
    target = targets_for([existing]).get((existing.target_type, existing.target_id))
    if existing.unfollowed_at is None:
        existing.unfollowed_at = utcnow()
    db.session.commit()
    return target


def _find(user_id: int, target_type: str, target_id: int) -> Follow | None:
    return db.session.scalar(
        select(Follow).where(
            Follow.user_id == user_id, Follow.target_type == target_type, Follow.target_id == target_id
        )
    )


def following(user: User | None, target_type: str, key: str | int) -> Follow | None:
    """The signed-in user's current follow of a target, if any: one statement."""
    if user is None or not user.is_authenticated:
        return None
    query = select(Follow).where(
        Follow.user_id == user.id, Follow.target_type == target_type, Follow.unfollowed_at.is_(None)
    )
    if target_type == "tag":
        query = query.where(Follow.target_id == select(Tag.id).where(Tag.slug == str(key)).scalar_subquery())
    elif str(key).isdigit():
        query = query.where(Follow.target_id == int(key))
    else:
        return None
    return db.session.scalar(query)


@dataclass
class FollowRow:
    follow: Follow
    target: Target


def user_follows(user: User) -> list[FollowRow]:
    """Everything the user follows, projects first, each kind by name."""
    follows = list(
        db.session.scalars(
            select(Follow).where(Follow.user_id == user.id, Follow.unfollowed_at.is_(None)).order_by(Follow.id)
        )
    )
    targets = targets_for(follows)
    order = list(FOLLOW_TARGETS)
    rows = [
        FollowRow(f, targets[(f.target_type, f.target_id)]) for f in follows if (f.target_type, f.target_id) in targets
    ]
    return sorted(rows, key=lambda r: (order.index(r.follow.target_type), r.target.name.lower()))


# ---- how often ------------------------------------------------------------------------------


def settings_for(user_id: int) -> NotificationSettings:
    """The user's notification settings (the defaults, unsaved, when they have never changed them)."""
    settings = db.session.get(NotificationSettings, user_id)
    return settings or NotificationSettings(user_id=user_id, frequency=DEFAULT_FREQUENCY, seen_up_to=0)


def effective_frequency(follow_frequency: str | None, overall: str | None) -> str:
    """A follow's own choice, else the officer's overall choice, else the default."""
    return follow_frequency or overall or DEFAULT_FREQUENCY


def ensure_settings(user_id: int) -> NotificationSettings:
    """The user's settings row, created in the caller's transaction if they have none."""
    db.session.execute(
        insert_ignoring_duplicates(
            NotificationSettings, {"user_id": user_id, "frequency": DEFAULT_FREQUENCY, "seen_up_to": 0}, ["user_id"]
        )
    )
    return db.session.get(NotificationSettings, user_id)


def save_settings(user: User, frequency: str, follow_frequencies: dict[int, str]) -> NotificationSettings:
    """Set the overall choice and each follow's own ("" means as the overall choice)."""
    require_signed_in(user)
    if frequency not in FREQUENCIES:
        raise InvalidInput("Select how often we should email you", field="frequency")
    if any(value and value not in FREQUENCIES for value in follow_frequencies.values()):
        raise InvalidInput("Select how often we should email you about each thing you follow", field="follows")
    begin_write()
    settings = ensure_settings(user.id)
    settings.frequency = frequency
    if follow_frequencies:
        # Only the user's own follows: ids of anyone else's are ignored.
        mine = db.session.scalars(
            select(Follow).where(Follow.user_id == user.id, Follow.id.in_(list(follow_frequencies)))
        )
        for row in mine:
            row.frequency = follow_frequencies[row.id] or None
    db.session.commit()
    return settings


# ---- one-click unsubscribe ------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(follow: Follow) -> str:
    """A token that stops email for this one follow, and nothing else."""
    return _serializer().dumps({"u": follow.user_id, "f": follow.id})


def digest_unsubscribe_token(user_id: int, frequency: str) -> str:
    """A token that stops one kind of digest (daily or weekly) for one officer."""
    return _serializer().dumps({"u": user_id, "d": frequency})


@dataclass
class Unsubscribe:
    """What a token would stop, for the page that asks to confirm it."""

    user_id: int
    follow: Follow | None = None
    target: Target | None = None
    digest: str | None = None

    @property
    def heading(self) -> str:
        if self.digest:
            return f"Stop the {self.digest} digest"
        return f"Stop email about {self.target.description if self.target else 'this'}"

    @property
    def done(self) -> str:
        if self.digest:
            return f"We will not send you the {self.digest} digest any more"
        return f"We will not email you about {self.target.description if self.target else 'this'} any more"


BAD_LINK = "This unsubscribe link is not valid. Check you copied the whole link from the email."


def read_unsubscribe_token(token: str) -> Unsubscribe:
    """What a token stops; InvalidInput when it was altered, has expired or its follow is gone."""
    try:
        data = _serializer().loads(token, max_age=current_app.config.get("UNSUBSCRIBE_MAX_AGE", UNSUBSCRIBE_MAX_AGE))
    except SignatureExpired:
        raise InvalidInput(
            "This unsubscribe link has expired. Sign in to change how often we email you, or use the link "
            "in a newer email."
        ) from None
    except BadSignature:
        raise InvalidInput(BAD_LINK) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvalidInput(BAD_LINK)
    if data.get("d") in ("daily", "weekly"):
        return Unsubscribe(user_id=data["u"], digest=data["d"])
    existing = db.session.get(Follow, data.get("f")) if isinstance(data.get("f"), int) else None
    if existing is None or existing.user_id != data["u"]:
        raise InvalidInput(BAD_LINK)
    target = targets_for([existing]).get((existing.target_type, existing.target_id))
    return Unsubscribe(user_id=data["u"], follow=existing, target=target)


def unsubscribe(token: str) -> Unsubscribe:
    """Stop the email a token names: one follow's, or one kind of digest. Doing it twice is harmless."""
    read_unsubscribe_token(token)  # a bad token fails before the write starts
    begin_write()
    found = read_unsubscribe_token(token)
    if found.follow is not None:
        found.follow.frequency = "off"
    else:
        settings = ensure_settings(found.user_id)
        overall = settings.frequency
        # Every follow that fed this digest: those set to it, and those that take the overall choice if it is.
        fed = [Follow.frequency == found.digest]
        if overall == found.digest:
            fed.append(Follow.frequency.is_(None))
        db.session.execute(update(Follow).where(Follow.user_id == found.user_id, or_(*fed)).values(frequency="off"))
        if overall == found.digest:
            settings.frequency = "off"
    db.session.commit()
    return found
