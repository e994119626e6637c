"""The gRPC client against a real grpcio server on loopback: auth metadata, errors, retries, TLS option."""

from __future__ import annotations

import logging

import grpc
import pytest
from chirpstack_api import api
from chirpstack_fake import FakeChirpStack
from tingbro.chirpstack import (
    AlreadyExistsError,
    AuthenticationError,
    ChirpStackClient,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
)
from tingbro.chirpstack.errors import translate

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.secret-part"


@pytest.fixture
def cs():
    with FakeChirpStack(token=TOKEN) as fake:
        yield fake


def _device(cs: FakeChirpStack, dev_eui: str = "0201020304050607") -> api.Device:
    app_id = cs.add_application()
    profile_id = api.DeviceProfile(tenant_id=cs.tenant_id, name="p")
    profile_id.id = "8b7a5a66-5f0a-4d7b-9c0e-5d3f6f0a1b2c"
    cs.device_profiles[profile_id.id] = profile_id
    return api.Device(dev_eui=dev_eui, name="bin-1", application_id=app_id, device_profile_id=profile_id.id)


def test_token_sent_as_bearer_authorization_metadata(cs):
    app_id = cs.add_application("streets")
    with ChirpStackClient(cs.target, TOKEN) as client:
        response = client.call("ApplicationService", "Get", api.GetApplicationRequest(id=app_id))
    assert response.application.name == "streets"
    (_svc, _method, request, metadata) = cs.requests[-1]
    assert metadata["authorization"] == "Bearer " + TOKEN
    assert request.id == app_id


def test_wrong_token_is_a_clear_authentication_error_without_the_token(cs):
    with ChirpStackClient(cs.target, "wrong-" + TOKEN) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui="0102030405060708"))
    text = str(caught.value)
    assert "API token" in text and "UNAUTHENTICATED" in text
    assert TOKEN not in text and "secret-part" not in text
    assert "wrong-" not in repr(client)


def test_duplicate_dev_eui_already_exists_and_chirpstacks_internal_variant(cs):
    device = _device(cs)
    with ChirpStackClient(cs.target, TOKEN) as client:
        client.call("DeviceService", "Create", api.CreateDeviceRequest(device=device))
        with pytest.raises(AlreadyExistsError, match="already exists"):
            client.call("DeviceService", "Create", api.CreateDeviceRequest(device=device), "device bin-1")
        cs.duplicate_code = grpc.StatusCode.INTERNAL  # what real ChirpStack returns (reference §5.1)
        with pytest.raises(AlreadyExistsError, match="DeviceService.Create device bin-1: already exists"):
            client.call("DeviceService", "Create", api.CreateDeviceRequest(device=device), "device bin-1")


def test_malformed_hex_reported_as_invalid_argument_not_internal(cs):
    with ChirpStackClient(cs.target, TOKEN) as client:
        with pytest.raises(InvalidArgumentError, match="malformed hex"):
            client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui="010"))


def test_not_found(cs):
    with ChirpStackClient(cs.target, TOKEN) as client:
        with pytest.raises(NotFoundError, match="DeviceService.Get"):
            client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui="0102030405060708"))


def test_unavailable_is_retried_with_backoff_then_succeeds(cs, caplog):
    app_id = cs.add_application()
    cs.unavailable_calls = 2
    sleeps: list[float] = []
    with ChirpStackClient(cs.target, TOKEN, backoff_s=0.1, sleep=sleeps.append) as client:
        with caplog.at_level(logging.WARNING, logger="tingbro.chirpstack"):
            client.call("ApplicationService", "Get", api.GetApplicationRequest(id=app_id))
    assert sleeps == [0.1, 0.2]
    assert len(cs.calls("ApplicationService", "Get")) == 3
    assert "retry" in caplog.text and TOKEN not in caplog.text


def test_unavailable_gives_up_after_max_attempts(cs):
    cs.unavailable_calls = 10
    with ChirpStackClient(cs.target, TOKEN, max_attempts=3, sleep=lambda _s: None) as client:
        with pytest.raises(UnavailableError, match="after 3 attempts"):
            client.call("ApplicationService", "Get", api.GetApplicationRequest(id="x"))
    assert len(cs.calls("ApplicationService", "Get")) == 3


def test_server_down_is_unavailable_within_the_deadline():
    from conftest import free_port

    target = f"127.0.0.1:{free_port()}"  # nothing listens here
    with ChirpStackClient(target, TOKEN, timeout_s=1, max_attempts=2, sleep=lambda _s: None) as client:
        with pytest.raises(UnavailableError) as caught:
            client.call("ApplicationService", "Get", api.GetApplicationRequest(id="x"))
    assert TOKEN not in str(caught.value)


def test_other_errors_are_not_retried(cs):
    cs.duplicate_code = grpc.StatusCode.INTERNAL
    with ChirpStackClient(cs.target, TOKEN, sleep=lambda _s: pytest.fail("must not retry")) as client:
        with pytest.raises(NotFoundError):
            client.call("ApplicationService", "Get", api.GetApplicationRequest(id="nope"))
    assert len(cs.calls("ApplicationService", "Get")) == 1


def test_token_echoed_by_server_is_scrubbed():
    class Echo(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.INTERNAL

        def details(self):
            return "bad header Bearer " + TOKEN

    text = str(translate(Echo(), "DeviceService.Get", TOKEN))
    assert TOKEN not in text and "<token>" in text


def test_empty_token_refused():
    with pytest.raises(ValueError):
        ChirpStackClient("127.0.0.1:1", "")


def test_tls_channel_option_reaches_a_plaintext_server_as_unavailable(cs):
    # A TLS client talking to a plaintext server fails the handshake: it must not hang or leak the token.
    with ChirpStackClient(cs.target, TOKEN, tls=True, timeout_s=2, max_attempts=1) as client:
        with pytest.raises(UnavailableError):
            client.call("ApplicationService", "Get", api.GetApplicationRequest(id="x"))


def _self_signed_for_loopback() -> tuple[bytes, bytes]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def test_tls_with_the_proxy_certificate_works_and_an_untrusted_one_is_refused():
    key_pem, cert_pem = _self_signed_for_loopback()
    with FakeChirpStack(token=TOKEN, tls=(key_pem, cert_pem)) as cs:
        app_id = cs.add_application("tls")
        with ChirpStackClient(cs.target, TOKEN, tls=True, root_certificates=cert_pem, timeout_s=5) as client:
            assert client.call("ApplicationService", "Get", api.GetApplicationRequest(id=app_id)).application.name == "tls"
        assert cs.requests[-1][3]["authorization"] == "Bearer " + TOKEN
        other_key, other_cert = _self_signed_for_loopback()
        with ChirpStackClient(cs.target, TOKEN, tls=True, root_certificates=other_cert, timeout_s=2,
                              max_attempts=1) as client:
            with pytest.raises(UnavailableError):
                client.call("ApplicationService", "Get", api.GetApplicationRequest(id=app_id))
        assert len(cs.requests) == 1  # the untrusted connection never got as far as a request (or the token)
