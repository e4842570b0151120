"""``python -m backtest_service``: serve BacktestService (and run a worker) until SIGTERM."""

from backtest_service.config import BacktestSettings
from backtest_service.server import build
from servicekit.server import run_service
from servicekit.settings import load_settings


def main() -> None:
    run_service(
        load_settings(BacktestSettings), name="backtest", role="backtest_service", build=build
    )


if __name__ == "__main__":
    main()
