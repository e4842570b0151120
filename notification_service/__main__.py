"""python -m notification_service: serve until SIGTERM/SIGINT."""

from notification_service.config import NotificationSettings
from notification_service.server import build
from servicekit.server import run_service
from servicekit.settings import load_settings


def main() -> None:
    run_service(
        load_settings(NotificationSettings),
        name="notification",
        role="notification_service",
        build=build,
    )


if __name__ == "__main__":
    main()
