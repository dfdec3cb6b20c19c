"""The app bench/webhook_latency.py serves under gunicorn: TestConfig on the bench's database and sandbox, web
only (no runtime), Telegram's send limits, and the token key of the process that seeded the bots (TestConfig
draws a new one in every process)."""
import logging
import os

from app import create_app
from config import TestConfig

app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                 TOKEN_ENCRYPTION_KEY=os.environ["BENCH_TOKEN_KEY"], TELEGRAM_API_URL=os.environ["BENCH_SANDBOX_URL"],
                 RUNTIME_ENABLED=False, BOT_MODE="webhook", TELEGRAM_LIMIT_PER_BOT="30/second",
                 TELEGRAM_LIMIT_PER_CHAT="1/second", TELEGRAM_LIMIT_PER_GROUP="20/minute")
logging.disable(logging.INFO)  # per-update INFO lines (gunicorn.conf.py turns them on) would cost CPU in both runs
