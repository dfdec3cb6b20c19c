"""setMyCommands / getMyCommands / deleteMyCommands: command lists per scope and language."""

import re

from .errors import bad_request

COMMAND_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_COMMANDS = 100
SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
          "chat_administrators", "chat_member"}


def _scope_key(call):
    scope = call.params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = call.str("language_code") or ""
    return scope["type"], str(scope.get("chat_id", "")), str(scope.get("user_id", "")), language


def set_my_commands(call):
    """setMyCommands: store the list for its scope and language (an empty list deletes it)."""
    commands = call.params.get("commands")
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("can't parse commands JSON object")
    kept = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).removeprefix("/")
        description = str(command.get("description", ""))
        if not COMMAND_PATTERN.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        kept.append({"command": name, "description": description})
    key = _scope_key(call)
    if kept:
        call.bot.commands[key] = kept
    else:
        call.bot.commands.pop(key, None)
    return True


def get_my_commands(call):
    """getMyCommands: the list stored for exactly this scope and language ([] when none)."""
    return call.bot.commands.get(_scope_key(call), [])


def delete_my_commands(call):
    """deleteMyCommands: forget the list of this scope and language."""
    call.bot.commands.pop(_scope_key(call), None)
    return True
