"""Bot API parameters: the union of query string, form, multipart and JSON body."""

import json
from dataclasses import dataclass

from .errors import bad_request

#: Parameters that carry JSON objects; pyTelegramBotAPI sends them as JSON strings.
JSON_FIELDS = {
    "reply_markup", "allowed_updates", "entities", "caption_entities", "reply_parameters",
    "link_preview_options", "media", "commands", "scope", "results", "permissions",
    "options", "prices", "suggested_tip_amounts",
}
TRUE_STRINGS = {"true", "1", "yes", "on"}
ATTACH_PREFIX = "attach://"


@dataclass
class Upload:
    """A file sent in a multipart request, read before the sandbox lock is taken."""

    file_name: str | None
    data: bytes
    mime_type: str | None

    def describe(self):
        """Return what the call log shows instead of the bytes."""
        return {"file_name": self.file_name, "size": len(self.data)}


def read_params(request):
    """Return the request's parameters as one dict, uploads as Upload objects."""
    params = {**request.args.to_dict(), **request.form.to_dict()}
    uploads = {name: Upload(storage.filename, storage.read(), storage.mimetype or None)
               for name, storage in request.files.items()}
    params.update(uploads)
    params.update(_json_body(request))
    return {name: decode_param(name, _attached(value, uploads)) for name, value in params.items()}


def _attached(value, uploads):
    """Resolve "attach://<name>" (any file field may name a multipart part so) to its Upload."""
    if not isinstance(value, str) or not value.startswith(ATTACH_PREFIX):
        return value
    upload = uploads.get(value[len(ATTACH_PREFIX):])
    if upload is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return upload


def _json_body(request):
    if not request.is_json:
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("can't parse JSON request body")
    return body


def decode_param(name, value):
    """Return a parameter's value, JSON-decoding the fields that carry objects."""
    if name not in JSON_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        raise bad_request(f"can't parse {name} JSON object") from None


def loggable(params, token):
    """Return params fit for the call log: uploads described, the token masked, objects copied
    (JSON-safe, so later edits of the call's own dicts do not change the log)."""
    return {name: _loggable_value(value, token) for name, value in params.items()}


def _loggable_value(value, token):
    if isinstance(value, str):
        return value.replace(token, "<token>") if token in value else value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Upload):
        return value.describe()
    if isinstance(value, dict):  # a copy as JSON would make it (keys as text), without the round trip
        return {_json_key(key): _loggable_value(item, token) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_loggable_value(item, token) for item in value]
    return _loggable_value(str(value), token)


def _json_key(key):
    return json.dumps(key) if isinstance(key, bool) or key is None else str(key)


@dataclass
class Call:
    """One Bot API call being answered: the sandbox, the calling bot and its parameters."""

    sandbox: object
    bot: object
    params: dict

    @property
    def state(self):
        """Return the sandbox state (its lock is held while the call runs)."""
        return self.sandbox.state

    def has(self, name):
        """Tell whether a parameter was given and is not empty."""
        return self.params.get(name) not in (None, "")

    def int(self, name, default=None, missing=None):
        """Return an integer parameter; `missing` is the error detail when it is required."""
        value = self.params.get(name)
        if value in (None, ""):
            if missing:
                raise bad_request(missing)
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name, default=0.0):
        """Return a float parameter."""
        value = self.params.get(name)
        try:
            return default if value in (None, "") else float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name):
        """Return a boolean parameter (JSON true or a string like "True")."""
        value = self.params.get(name)
        if isinstance(value, str):
            return value.strip().lower() in TRUE_STRINGS
        return bool(value)

    def str(self, name, default=None):
        """Return a string parameter."""
        value = self.params.get(name)
        return default if value is None else str(value)
