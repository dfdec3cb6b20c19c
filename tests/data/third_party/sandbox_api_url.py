"""A pytest plugin (ours, not upstream) pointing pyTelegramBotAPI at the sandbox in SANDBOX_URL."""

import os

from telebot import apihelper


def pytest_configure(config):
    """Send every Bot API call of the run to the sandbox instead of api.telegram.org."""
    apihelper.API_URL = os.environ["SANDBOX_URL"] + "/bot{0}/{1}"
    apihelper.FILE_URL = os.environ["SANDBOX_URL"] + "/file/bot{0}/{1}"
