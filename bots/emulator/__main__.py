"""Run the sandbox on its own: python -m bots.emulator [--host H] [--port P]."""

import argparse
import logging

from .server import DEFAULT_PORT, serve_forever


def main(argv=None):
    """Parse the command line and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Telegram Bot API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--allow-http-webhooks", action="store_true", default=None,
                        help="accept http:// webhooks on any port (also SANDBOX_ALLOW_HTTP_WEBHOOKS=1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    serve_forever(args.host, args.port, args.allow_http_webhooks)


if __name__ == "__main__":
    main()
