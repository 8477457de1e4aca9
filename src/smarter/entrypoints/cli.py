"""The `smarter` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from smarter.entrypoints.settings import ConfigurationError, Settings, load_settings


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from smarter.entrypoints.http.app import create_app

    app = create_app(settings)
    base = f"{settings.platform.scheme}://{settings.platform.console_domain}"
    print(f"Smarter ({settings.environment.value}) on http://{settings.bind_host}:{settings.port}")
    print(f"  console: {base}/")
    example = f"example.3141-5926-5359.api.localhost:{settings.local_port}"
    print(f"  try:     curl '{base}/api/v1/hosts/resolve?host={example}'")
    uvicorn.run(app, host=settings.bind_host, port=settings.port, log_level=settings.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smarter", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"smarter: configuration error: {error}", file=sys.stderr)
        return 2
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
