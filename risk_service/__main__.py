"""python -m risk_service: serve the risk service until SIGTERM/SIGINT."""

from risk_service.config import RiskSettings
from risk_service.server import build
from servicekit.server import run_service
from servicekit.settings import load_settings


def main() -> None:
    run_service(load_settings(RiskSettings), name="risk", role="risk_service", build=build)


if __name__ == "__main__":
    main()
