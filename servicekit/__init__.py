"""What every service uses, written once: settings, logs, telemetry, errors, auth, server."""
