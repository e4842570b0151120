"""Start the executor: python -m executor_service."""

from executor_service.config import ExecutorSettings
from executor_service.server import build
from servicekit.server import run_service
from servicekit.settings import load_settings


def main() -> None:
    run_service(
        load_settings(ExecutorSettings), name="executor", role="executor_service", build=build
    )


if __name__ == "__main__":
    main()
