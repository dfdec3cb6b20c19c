"""Configuration classes, read from the environment and an optional `.env` file."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _default_sqlite_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'botfleet.db'}"


class Config:
    """Settings shared by every environment."""

    #: Which environment this is (development, testing, production); production refuses demo shortcuts.
    BOTFLEET_ENV = "development"
    #: The sandbox control API has no authentication: `flask serve` / `flask sandbox` refuse to start it
    #: in production unless this is set (e.g. a staging host that is not reachable from outside).
    SANDBOX_IN_PRODUCTION = _env("SANDBOX_IN_PRODUCTION", "0").lower() in ("1", "true", "yes", "on")
    #: The largest request body read at all (receipt photos in the sandbox chat are the biggest).
    MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))
    #: The largest Telegram update body the webhook reads (real updates are a few kilobytes).
    WEBHOOK_MAX_CONTENT_LENGTH = int(_env("WEBHOOK_MAX_CONTENT_LENGTH", str(256 * 1024)))
    #: Receipt and ticket images (app/services/images.py): the largest file accepted, in bytes, and the most
    #: pixels decoded; larger ones are refused before they are read. Telegram's own photo limit is 10 MB.
    IMAGE_MAX_BYTES = int(_env("IMAGE_MAX_BYTES", str(10 * 1024 * 1024)))
    IMAGE_MAX_PIXELS = int(_env("IMAGE_MAX_PIXELS", str(40_000_000)))

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", _default_sqlite_url())
    SECRET_KEY = _env("SECRET_KEY")
    #: Fernet key (urlsafe base64, 32 bytes) that encrypts bot tokens at rest.
    TOKEN_ENCRYPTION_KEY = _env("TOKEN_ENCRYPTION_KEY")
    #: Bot API base, e.g. https://api.telegram.org or the sandbox http://127.0.0.1:8081.
    TELEGRAM_API_URL = _env("TELEGRAM_API_URL", "http://127.0.0.1:8081")
    #: polling (development) or webhook (production).
    BOT_MODE = _env("BOT_MODE", "polling")
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    #: Shared storage of the rate limits: the API's per-token limits, the Zarinpal callback's and the sign-in
    #: throttle (Flask-Limiter), and the outbox's Telegram send limits (TELEGRAM_LIMITS_STORAGE_URL overrides);
    #: unset: each process counts alone.
    REDIS_URL = _env("REDIS_URL")
    #: How many reverse proxies (nginx) stand in front of the app and append X-Forwarded-For / -Proto /
    #: -Host; their headers are trusted for exactly that many hops (werkzeug ProxyFix). 0: none (direct).
    TRUSTED_PROXY_HOPS = int(_env("TRUSTED_PROXY_HOPS", "0"))
    #: werkzeug's method for new password hashes (not read from the environment: production keeps scrypt).
    PASSWORD_HASH_METHOD = "scrypt"
    #: Sign-in throttle (app/services/login_throttle.py; Flask-Limiter syntax, counted across processes when
    #: REDIS_URL is set). Attempts at one account from one address, backing off; a success clears them:
    LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS = _env("LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS", "5 per minute; 10 per hour; 20 per day")
    #: Attempts from one address at any accounts:
    LOGIN_RATE_LIMIT_ADDRESS = _env("LOGIN_RATE_LIMIT_ADDRESS", "30 per minute; 300 per day")
    #: Attempts at one account from all addresses but the one it last signed in from:
    LOGIN_RATE_LIMIT_ACCOUNT = _env("LOGIN_RATE_LIMIT_ACCOUNT", "50 per hour; 200 per day")
    #: Requests per API token (Flask-Limiter syntax), counted across processes when REDIS_URL is set.
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "600 per minute")
    #: Event webhook URLs may point at private/loopback addresses (never in production: SSRF).
    WEBHOOK_ALLOW_PRIVATE_URLS = False
    #: Backups (docs/backups.md): a directory or s3://bucket/prefix; the Fernet key that encrypts them;
    #: how many daily and weekly copies the scheduled backup keeps; an S3-compatible endpoint.
    BACKUP_TARGET = _env("BACKUP_TARGET")
    BACKUP_ENCRYPTION_KEY = _env("BACKUP_ENCRYPTION_KEY")
    BACKUP_KEEP_DAILY = int(_env("BACKUP_KEEP_DAILY", "7"))
    BACKUP_KEEP_WEEKLY = int(_env("BACKUP_KEEP_WEEKLY", "4"))
    BACKUP_S3_ENDPOINT_URL = _env("BACKUP_S3_ENDPOINT_URL")
    #: Whether this process competes to run the scheduler and bots (off: web only).
    RUNTIME_ENABLED = _env("RUNTIME_ENABLED", "1").lower() not in ("0", "false", "no", "off")
    #: Seconds between leader-lock attempts and between the leader's heartbeats.
    RUNTIME_INTERVAL_SECONDS = float(_env("RUNTIME_INTERVAL_SECONDS", "2"))
    # A leader cut off from the database keeps its bots (answering "unavailable") this long.
    RUNTIME_OUTAGE_GRACE_SECONDS = float(_env("RUNTIME_OUTAGE_GRACE_SECONDS", "30"))
    #: Zarinpal REST v4 base: the sandbox here, https://payment.zarinpal.com in production
    #: (https://sandbox.zarinpal.com is Zarinpal's own test gateway). See docs/payments.md.
    ZARINPAL_API_URL = _env("ZARINPAL_API_URL", "http://127.0.0.1:8081")
    ZARINPAL_TIMEOUT_SECONDS = float(_env("ZARINPAL_TIMEOUT_SECONDS", "10"))
    #: Per client address on the public callback (Flask-Limiter syntax); a payer needs one or two hits.
    ZARINPAL_CALLBACK_RATE_LIMIT = _env("ZARINPAL_CALLBACK_RATE_LIMIT", "30 per minute")
    #: The platform's own merchant id, which tenants pay their wallet top-ups to (empty: no online top-up).
    PLATFORM_ZARINPAL_MERCHANT_ID = _env("PLATFORM_ZARINPAL_MERCHANT_ID")
    SANDBOX_HOST = _env("SANDBOX_HOST", "127.0.0.1")
    SANDBOX_PORT = int(_env("SANDBOX_PORT", "8081"))
    #: Bot engine (docs/bots.md): shared worker pool size, long-poll seconds, DB re-check interval.
    BOT_WORKERS = int(_env("BOT_WORKERS", "8"))
    BOT_POLL_TIMEOUT = int(_env("BOT_POLL_TIMEOUT", "10"))
    BOT_SYNC_INTERVAL = float(_env("BOT_SYNC_INTERVAL", "2"))
    BOT_WEBHOOK_MAX_CONNECTIONS = int(_env("BOT_WEBHOOK_MAX_CONNECTIONS", "40"))
    #: Threads per web process that send the replies to webhook updates after their commit (bots/replies.py);
    #: each holds a database connection while it waits for Telegram.
    WEBHOOK_REPLY_THREADS = int(_env("WEBHOOK_REPLY_THREADS", "8"))
    #: The outbox's task queue (docs/outbox.md): unset → an in-process worker pool inside the runtime;
    #: redis://… or amqp://… → `flask worker` processes deliver, on any number of hosts.
    QUEUE_URL = _env("QUEUE_URL")
    #: In-process outbox pool: threads, and seconds between polls for rows other processes committed.
    OUTBOX_WORKERS = int(_env("OUTBOX_WORKERS", "4"))
    OUTBOX_POLL_SECONDS = float(_env("OUTBOX_POLL_SECONDS", "1"))
    #: Seconds a claimed (or broker-handed) outbox row is left alone before it counts as lost and is retried.
    OUTBOX_LEASE_SECONDS = float(_env("OUTBOX_LEASE_SECONDS", "60"))
    #: Broker queue and (Redis) key namespace of the outbox, so several deployments can share one broker.
    OUTBOX_QUEUE_NAME = _env("OUTBOX_QUEUE_NAME", "botfleet-outbox")
    OUTBOX_QUEUE_NAMESPACE = _env("OUTBOX_QUEUE_NAMESPACE", "botfleet")
    #: Telegram's send limits (`limits` syntax), counted across every sender (app/worker/ratelimit.py):
    #: per bot, per chat, and per group chat; a send over one is rescheduled, never slept on.
    TELEGRAM_LIMIT_PER_BOT = _env("TELEGRAM_LIMIT_PER_BOT", "30/second")
    TELEGRAM_LIMIT_PER_CHAT = _env("TELEGRAM_LIMIT_PER_CHAT", "1/second")
    TELEGRAM_LIMIT_PER_GROUP = _env("TELEGRAM_LIMIT_PER_GROUP", "20/minute")
    #: Where those counts live; unset: REDIS_URL, else a redis:// QUEUE_URL, else this process's memory.
    TELEGRAM_LIMITS_STORAGE_URL = _env("TELEGRAM_LIMITS_STORAGE_URL")
    #: "module:function" that registers every handler module on a TeleBot.
    BOT_HANDLERS = "bots.handlers:register_all"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Postgres: a pooled connection is pinged before it is handed out only when it sat in the pool at least this
    #: many seconds (as pgbouncer's server_check_delay), which is when a connection dropped by Postgres, a
    #: firewall or an idle timeout is found; under traffic connections come back within milliseconds and are not
    #: pinged (a ping is a round trip per request). 0: ping at every checkout (SQLAlchemy's pool_pre_ping).
    DB_PING_IDLE_SECONDS = float(_env("DB_PING_IDLE_SECONDS", "5"))
    #: Postgres connections a process keeps open for reuse: at least its threads that use the database at
    #: once (BOT_WORKERS + OUTBOX_WORKERS + the supervisor and scheduler, or gunicorn's threads). Beyond it,
    #: up to 10 more are opened and closed again on return, so a smaller pool reconnects all the time.
    DB_POOL_SIZE = int(_env("DB_POOL_SIZE", "16"))
    SESSION_COOKIE_HTTPONLY = True
    #: Strict-Transport-Security on HTTPS requests (app/security_headers.py); production turns it on.
    STRICT_TRANSPORT_SECURITY = False
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    #: Bootstrap's CSS and JS come from the app itself (the machines have no internet).
    BOOTSTRAP_SERVE_LOCAL = True
    #: Dashboard languages; the first is the default for an account that chose none.
    LANGUAGES = ("fa", "en")
    BABEL_DEFAULT_LOCALE = "fa"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    @classmethod
    def init_app(cls, app) -> None:
        """Final checks once the Flask app exists; subclasses add their own."""


class DevelopmentConfig(Config):
    """`make run`: SQLite and the sandbox; secrets generated once and kept in instance/."""

    DEBUG = False
    WEBHOOK_ALLOW_PRIVATE_URLS = True
    #: Any UUID pays the sandbox's Zarinpal, so owners can try a wallet top-up in `make run`.
    PLATFORM_ZARINPAL_MERCHANT_ID = _env("PLATFORM_ZARINPAL_MERCHANT_ID", "00000000-0000-4000-8000-0000000b0f1e")

    @classmethod
    def init_app(cls, app) -> None:
        keys = _load_or_create_dev_secrets(Path(app.instance_path))
        app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or keys["SECRET_KEY"]
        app.config["TOKEN_ENCRYPTION_KEY"] = (
            app.config.get("TOKEN_ENCRYPTION_KEY") or keys["TOKEN_ENCRYPTION_KEY"]
        )


class TestConfig(Config):
    """The test suite: the database URL comes from the fixtures."""

    BOTFLEET_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    WTF_CSRF_ENABLED = True
    BOT_MODE = "polling"
    WEBHOOK_ALLOW_PRIVATE_URLS = True
    API_RATE_LIMIT = "100000 per minute"
    ZARINPAL_CALLBACK_RATE_LIMIT = "100000 per minute"
    #: Every test signs in from 127.0.0.1; the per-address and per-account rules are tested with their own values.
    LOGIN_RATE_LIMIT_ADDRESS = "100000 per minute"
    LOGIN_RATE_LIMIT_ACCOUNT = "100000 per minute"
    # drain_outbox delivers in the test's own time, which a real-time limit does not know: a test sending
    # two messages to one chat, or a broadcast of 50, would find some held back a second. The limiter's own
    # tests (tests/worker/ and tests/bots/test_telegram_limits.py) use Telegram's figures, and so do the
    # `flask worker` processes that tests start (production config).
    TELEGRAM_LIMIT_PER_BOT = "100000/second"
    TELEGRAM_LIMIT_PER_CHAT = "100000/second"
    TELEGRAM_LIMIT_PER_GROUP = "100000/minute"
    #: scrypt costs ~0.1 s of CPU and 32 MB per hash (seconds on a loaded machine), paid by every account the
    #: tests make and every sign-in; a cheap method checks the same code paths (tests/test_config.py keeps
    #: the other configurations on scrypt).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """gunicorn on Postgres: refuses to start without real secrets."""

    BOTFLEET_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    STRICT_TRANSPORT_SECURITY = True
    BOT_MODE = _env("BOT_MODE", "webhook")

    @classmethod
    def init_app(cls, app) -> None:
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY is not set: set the SECRET_KEY environment variable.")
        key = app.config.get("TOKEN_ENCRYPTION_KEY")
        if not key:
            raise RuntimeError(
                "TOKEN_ENCRYPTION_KEY is not set: set it to a Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            )
        try:
            Fernet(key)
        except ValueError as exc:
            raise RuntimeError(f"TOKEN_ENCRYPTION_KEY is not a valid Fernet key: {exc}") from None


def _load_or_create_dev_secrets(instance: Path) -> dict[str, str]:
    """Development secrets live in instance/secrets.env so restarts keep sessions and tokens."""
    path = instance / "secrets.env"
    instance.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
            f"TOKEN_ENCRYPTION_KEY={Fernet.generate_key().decode()}\n"
        )
        path.chmod(0o600)
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


#: Tuning knobs whose defaults live beside the code that reads them (each named there): set in the environment,
#: they override it; unset, the code's default holds. Name → how its value is read.
TUNING_FROM_ENV = {
    "TELEGRAM_LIMIT_GUARD_SECONDS": float,  # app/worker/ratelimit.py
    "TELEGRAM_TOKENS_AT_ONCE": int,  # bots/broadcast_outbound.py
    "BROADCAST_SEND_PAUSE_SECONDS": float,  # bots/broadcast_outbound.py
    "OUTBOX_BATCH": int,  # app/worker/pool.py
    "BROADCAST_BATCH": int,  # app/services/broadcasts/pump.py
    "BROADCAST_WINDOW": int,  # app/services/broadcasts/pump.py
    "BOT_ALLOWED_UPDATES": _names,  # bots/manager.py, comma-separated update types
    "BOT_MAX_BACKOFF": float,  # bots/manager.py
}


def tuning_from_env() -> dict:
    """The TUNING_FROM_ENV knobs set in the environment, read; a value that does not read is refused at start."""
    values = {}
    for name, read in TUNING_FROM_ENV.items():
        raw = _env(name)
        if raw is None:
            continue
        try:
            values[name] = read(raw)
        except ValueError:
            raise RuntimeError(f"{name} must be {read.__name__.strip('_')}, not {raw!r}.") from None
    return values


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by BOTFLEET_ENV (development by default)."""
    name = _env("BOTFLEET_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"BOTFLEET_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]
