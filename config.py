"""Pipeline's configuration: read from the environment, one class per environment."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def database_url(url: str | None) -> str:
    """Normalise a DATABASE_URL so SQLAlchemy uses psycopg 3 for PostgreSQL."""
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'pipeline.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def env_flag(name: str, default: bool) -> bool:
    """Read a yes/no setting from the environment."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment; production values unless overridden."""

    ENV_NAME = "production"
    DEBUG = False
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SERVICE_NAME = "Pipeline"
    # Where people write to ask for a council email domain to be added.
    ORGANISER_CONTACT = os.environ.get("ORGANISER_CONTACT", "pipeline@localgovdigital.info")

    # Cookies: the __Host- prefix pins the session cookie to this host over HTTPS.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    REMEMBER_COOKIE_DURATION = 0
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    PREFERRED_URL_SCHEME = "https"
    # Set when a proxy in front of the app terminates TLS and sets X-Forwarded-* headers.
    TRUST_PROXY_HEADERS = env_flag("TRUST_PROXY_HEADERS", False)

    # Links in emails need an absolute address.
    BASE_URL = os.environ.get("BASE_URL", "http://localhost:5000")

    # Email: "console" prints each message; "smtp" sends through SMTP_HOST.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Pipeline <no-reply@pipeline.localgov.digital>")
    SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = env_flag("SMTP_STARTTLS", False)
    SMTP_TIMEOUT = 10
    # Deliver a request's messages as soon as it has committed them; the
    # `flask outbox deliver` command retries whatever could not be sent.
    OUTBOX_DELIVER_AFTER_REQUEST = env_flag("OUTBOX_DELIVER_AFTER_REQUEST", True)
    OUTBOX_MAX_ATTEMPTS = 8

    # Sign-in limits: failures allowed in the window, per account and per address.
    SIGN_IN_WINDOW_SECONDS = 15 * 60
    SIGN_IN_MAX_FAILURES_PER_ACCOUNT = 5
    SIGN_IN_MAX_FAILURES_PER_ADDRESS = 20
    EMAIL_TOKEN_MAX_AGE = 60 * 60 * 24 * 3
    RESET_TOKEN_MAX_AGE = 60 * 60

    # Count SQL statements per request and send them in X-SQL-Count.
    SQL_COUNT_HEADER = False


class DevelopmentConfig(Config):
    """`make run`: debug on, messages printed to the terminal."""

    ENV_NAME = "development"
    DEBUG = env_flag("FLASK_DEBUG", True)
    SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-secret-key-not-for-production")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    SQL_COUNT_HEADER = True


class TestConfig(Config):
    """The test suite: a database and SMTP server the tests create themselves."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-only-used-by-the-test-suite"
    MAIL_BACKEND = "smtp"
    SQL_COUNT_HEADER = True
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    """Live service: refuses to start without a secret key."""


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for_environment() -> type[Config]:
    """Pick the configuration named by PIPELINE_ENV (production when unset)."""
    name = os.environ.get("PIPELINE_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"PIPELINE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
