"""Print a development access token for a user: ``python -m devstack.token --user-id UUID``.

The token is signed with ``JWT_SECRET`` (the local development secret by default), shaped
like a Supabase access token, so it works with the gateway and with every service.
"""

from __future__ import annotations

import argparse

from servicekit.auth import SERVICE_ROLE, USER_ROLE, mint_token, parse_user_id
from servicekit.errors import InvalidArgument
from servicekit.settings import ServiceSettings, load_settings

DEMO_USER_ID = "00000000-0000-4000-8000-000000000001"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user-id", default=DEMO_USER_ID, help="the user's uuid (default: demo)")
    parser.add_argument("--service", action="store_true", help="a service_role token instead")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    args = parser.parse_args(argv)
    settings = load_settings(ServiceSettings)
    try:
        subject = str(parse_user_id(args.user_id, "--user-id"))
    except InvalidArgument as error:
        parser.error(error.message)
    role = SERVICE_ROLE if args.service else USER_ROLE
    print(mint_token(settings.jwt_secret, subject, role, args.ttl, settings.jwt_audience))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
