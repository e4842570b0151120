"""The shared server: health, reflection, authentication, error mapping, shutdown."""

import asyncio
import gc
import os
import signal
import socket
import time
import uuid

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from servicekit import auth, errors
from servicekit.server import ServiceApp, StartupError, _serve_until_signalled, running_service
from servicekit.settings import ServiceSettings
from tests.testkit.services import TEST_JWT_SECRET, settings_for, user_metadata

SERVICE = "test.Probe"


def _handlers(release: asyncio.Event | None = None):
    async def whoami(request: bytes, context) -> bytes:
        return str(auth.current_caller().user_id).encode()

    async def invalid(request: bytes, context) -> bytes:
        raise errors.InvalidArgument("order.quantity", "must be positive")

    async def crash(request: bytes, context) -> bytes:
        raise RuntimeError("secret internal detail")

    async def slow(request: bytes, context) -> bytes:
        await release.wait()
        return b"finished"

    async def whoami_twice(request: bytes, context):
        for _ in range(2):
            yield str(auth.current_caller().user_id).encode()

    unary = grpc.unary_unary_rpc_method_handler
    return {
        "WhoAmI": unary(whoami),
        "Invalid": unary(invalid),
        "Crash": unary(crash),
        "Slow": unary(slow),
        "WhoAmITwice": grpc.unary_stream_rpc_method_handler(whoami_twice),
    }


def _builder(release: asyncio.Event | None = None, *, registered: bool = False):
    """Registers the probe as a generic handler, or as generated code does (registered)."""

    async def build(app: ServiceApp) -> None:
        handlers = _handlers(release)
        if registered:
            app.server.add_registered_method_handlers(SERVICE, handlers)
        else:
            app.server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICE, handlers),)
            )
        app.add_service_name(SERVICE)

    return build


REGISTRATIONS = pytest.mark.parametrize("registered", [False, True], ids=["generic", "registered"])


async def _call(app, method: str, metadata=None, timeout=5.0) -> bytes:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        return await channel.unary_unary(f"/{SERVICE}/{method}")(
            b"", metadata=metadata, timeout=timeout
        )


def _settings(database, **overrides) -> ServiceSettings:
    return settings_for(ServiceSettings, database, **overrides)


def _probe(database, *, registered: bool = False):
    """The probe service running in this event loop (an async context manager)."""
    return running_service(
        _settings(database),
        name="probe",
        role="risk_service",
        build=_builder(registered=registered),
    )


async def _failed_call(database, method: str, *, registered: bool = False) -> grpc.aio.AioRpcError:
    """The error a user's call of ``method`` on a fresh probe service fails with."""
    async with _probe(database, registered=registered) as app:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _call(app, method, user_metadata(uuid.uuid4()))
    return raised.value


async def test_health_when_database_reachable_reports_serving(database):
    async with (
        _probe(database) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_when_asked_lists_services(database):
    async with (
        _probe(database) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in stub.ServerReflectionInfo(iter([request]), timeout=2):
            names = {s.name for s in reply.list_services_response.service}
            break
    assert {SERVICE, "grpc.health.v1.Health"} <= names


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        (("authorization", "Bearer not-a-jwt"),),
        (
            (
                "authorization",
                "Bearer " + auth.mint_token(TEST_JWT_SECRET, str(uuid.uuid4()), ttl_seconds=-30),
            ),
        ),
        (
            (
                "authorization",
                "Bearer "
                + auth.mint_token("a-different-secret-0123456789abcdef", str(uuid.uuid4())),
            ),
        ),
    ],
    ids=["missing", "malformed", "expired", "wrongly-signed"],
)
@REGISTRATIONS
async def test_call_when_token_missing_expired_or_wrongly_signed_is_unauthenticated(
    database, metadata, registered
):
    async with _probe(database, registered=registered) as app:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _call(app, "WhoAmI", metadata)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stream = channel.unary_stream(f"/{SERVICE}/WhoAmITwice")(b"", metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                [reply async for reply in stream]
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


@REGISTRATIONS
async def test_stream_when_token_valid_sees_the_caller_in_every_message(database, registered):
    user_id = uuid.uuid4()
    async with (
        _probe(database, registered=registered) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        stream = channel.unary_stream(f"/{SERVICE}/WhoAmITwice")(
            b"", metadata=user_metadata(user_id), timeout=5
        )
        assert [reply async for reply in stream] == [str(user_id).encode()] * 2


async def test_call_when_accepted_token_expires_is_refused_from_then(database):
    # Minted three seconds past its expiry: still within the leeway, accepted for ~2 s.
    user_id = uuid.uuid4()
    token = auth.mint_token(TEST_JWT_SECRET, str(user_id), ttl_seconds=-3)
    metadata = (("authorization", f"Bearer {token}"),)
    refused_from = jwt.decode(token, options={"verify_signature": False})["exp"]
    refused_from += auth.EXPIRY_LEEWAY
    async with _probe(database) as app:
        assert await _call(app, "WhoAmI", metadata) == str(user_id).encode()
        await asyncio.sleep(max(0.0, refused_from - time.time()) + 0.05)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _call(app, "WhoAmI", metadata)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert raised.value.details() == "token has expired"


async def test_call_when_token_valid_sees_the_caller(database):
    user_id = uuid.uuid4()
    async with _probe(database) as app:
        assert await _call(app, "WhoAmI", user_metadata(user_id)) == str(user_id).encode()


@REGISTRATIONS
async def test_call_when_domain_error_maps_to_status_with_field_trailer(database, registered):
    error = await _failed_call(database, "Invalid", registered=registered)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.field_of(error) == "order.quantity"
    assert errors.reason_of(error) == "INVALID_ARGUMENT"


async def test_call_when_handler_crashes_is_internal_without_detail(database):
    error = await _failed_call(database, "Crash")
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (error.details() or "")


async def test_stop_when_call_in_flight_lets_it_finish(database):
    release = asyncio.Event()
    app = ServiceApp(_settings(database), name="probe", role="risk_service")
    await app.start(_builder(release))
    call = asyncio.create_task(_call(app, "Slow", user_metadata(uuid.uuid4())))
    await asyncio.sleep(0.2)
    stopping = asyncio.create_task(app.stop(grace=5.0))
    await asyncio.sleep(0.2)
    release.set()
    assert await call == b"finished"
    await stopping


async def test_start_when_port_in_use_raises_one_line_startup_error(database):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = ServiceApp(_settings(database, port=port), name="probe", role="risk_service")
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}"):
            await app.start(_builder())


async def test_start_when_database_unreachable_raises_startup_error(database):
    settings = _settings(database, database_url="postgresql://nobody@127.0.0.1:1/none")
    app = ServiceApp(settings, name="probe", role="risk_service")
    with pytest.raises(StartupError, match="cannot connect to the database"):
        await app.start(_builder())


async def test_call_when_method_unknown_is_unimplemented(database):
    error = await _failed_call(database, "NoSuchMethod")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_serving_process_when_sigterm_arrives_stops_and_unfreezes_its_heap(database):
    started: list[ServiceApp] = []
    probe = _builder()

    async def build(app: ServiceApp) -> None:
        await probe(app)
        started.append(app)

    serving = asyncio.create_task(
        _serve_until_signalled(_settings(database), "probe", "risk_service", build)
    )
    async with asyncio.timeout(20):
        while True:  # frozen once started and its signal handlers are in place
            if gc.get_freeze_count():
                break
            await asyncio.sleep(0.01)
    port = started[0].port
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=2
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING

    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 20)
    assert gc.get_freeze_count() == 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
