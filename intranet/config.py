"""Configuration defaults; every value can be overridden from the environment."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("INTRANET_INSTANCE", Path.cwd() / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'intranet.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions: signed cookies (no server state), bound to the user's session token (see auth).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("HTTPS", False)
    SESSION_COOKIE_NAME = "intranet_session"
    REMEMBER_COOKIE_DURATION = timedelta(days=7)  # far shorter than Flask-Login's 365 days
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("HTTPS", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which has its own limits
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    # Login throttling (Flask-Limiter). memory:// suits one process; set a shared store
    # (e.g. redis://) when running several workers.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    # (client address for throttling and the audit trail; HTTPS for HSTS). 0: none.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    DEMO_MODE = _bool("DEMO_MODE", False)
    PAGE_SIZE = 25
    # PostgreSQL: parallel workers per query for the app's sessions (0: pages read few rows)
    PG_PARALLEL_WORKERS = int(os.environ.get("PG_PARALLEL_WORKERS", "0"))
    # List counts stop here and show "1,000+" (core/pagination.py: why 1,000, not 10,000)
    PAGE_COUNT_CAP = 1_000
    # PDF records render in a separate process that is killed after this many seconds
    # (SECURITY.md "PDF": crafted CSS must not hold a worker). 0 renders in-process, no limit.
    # Optional e-mail copies of notifications (intranet/mail.py); unset: in-app only.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_FROM = os.environ.get("SMTP_FROM", "intranet@localhost")
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    PDF_TIMEOUT_SECONDS = float(os.environ.get("PDF_TIMEOUT_SECONDS", "30"))
    # The task queue (Huey, intranet/core/queue.py): Redis when REDIS_URL is set, else SQLite
    # in this file. Batch exports are written under EXPORT_DIR by EXPORT_RENDERERS processes;
    # an export whose heartbeat is older than EXPORT_STALE_SECONDS is restarted.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH", str(INSTANCE_DIR / "huey.sqlite3"))
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    EXPORT_RENDERERS = int(os.environ.get("EXPORT_RENDERERS", "2"))
    EXPORT_STALE_SECONDS = float(os.environ.get("EXPORT_STALE_SECONDS", "120"))
    # The company's signing key and certificate for issued PDFs (`flask archive keys` creates
    # them; or point these at files issued by the company's CA). Never in the database.
    ARCHIVE_KEY_FILE = os.environ.get("ARCHIVE_KEY_FILE",
                                      str(INSTANCE_DIR / "archive-signing-key.pem"))
    ARCHIVE_CERT_FILE = os.environ.get("ARCHIVE_CERT_FILE",
                                       str(INSTANCE_DIR / "archive-signing-cert.pem"))

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            INSTANCE_DIR.mkdir(parents=True, exist_ok=True)


def normalise_database_uri(uri: str) -> str:
    """postgresql:// URLs use psycopg 3, the driver this project installs."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri
