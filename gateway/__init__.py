"""The HTTP gateway: the platform's JSON API for browsers, in front of the gRPC services."""
