"""Sign-in throttling: counted before the password is checked, on every sign-in path, per real
client address behind trusted proxies, and still working (on the database) with the cache down.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from snapshots.middleware_proxy import real_client_addr
from snapshots.models import ThrottleCounter
from snapshots.services import audit, throttle

LOGIN = "/auth/login/"
KEYSTONE_AUTH = "POST /identity/v3/auth/tokens"
CLOSED_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def _post(client, user="demo", password="bad", **extra):
    return client.post(
        LOGIN, {"username": user, "password": password, "domain": "Default"}, **extra
    )


def _serialise_sqlite_writes(monkeypatch) -> None:
    """The in-memory SQLite test database refuses concurrent writers outright ("table is
    locked", no waiting), unlike the WAL file with IMMEDIATE transactions production uses, where
    they queue. There, and only there, the database steps of an attempt take turns; the
    throttle's cache path stays concurrent. On PostgreSQL nothing is serialised.
    """
    if connection.vendor != "sqlite":
        return
    lock = threading.Lock()

    def serialised(func):
        def run(*args, **kwargs):
            with lock:
                return func(*args, **kwargs)

        return run

    monkeypatch.setattr(audit, "append", serialised(audit.append))
    monkeypatch.setattr(throttle, "_db_incr", serialised(throttle._db_incr))


def _concurrent_wrong_passwords(n: int) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(n)

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            statuses.append(_post(Client()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("store", ["cache", "database", "file cache"])
def test_forty_concurrent_wrong_passwords_let_at_most_the_limit_reach_keystone(
    cloud, settings, store, monkeypatch, tmp_path
):
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    _serialise_sqlite_writes(monkeypatch)
    if store == "database":
        settings.CACHES = CLOSED_REDIS
    if store == "file cache":  # make run's default: not atomic, so counted in the database
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    cloud.reset_stats()
    statuses = _concurrent_wrong_passwords(40)
    assert len(statuses) == 40
    assert 500 not in statuses
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 35
    assert cloud.stats()["by_route"].get(KEYSTONE_AUTH, 0) <= 5
    if store != "cache":
        assert ThrottleCounter.objects.exists()


@pytest.mark.django_db
def test_with_the_cache_down_sign_in_works_and_is_still_throttled(client, cloud, settings):
    settings.CACHES = CLOSED_REDIS
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    assert _post(client, password="secret").status_code == 302
    other = Client()
    for _ in range(3):
        assert _post(other).status_code == 401
    response = _post(other, password="secret")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


@pytest.mark.django_db
def test_django_admin_login_is_throttled(client, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    User.objects.create_superuser("root", password="a-long-password-1")
    for _ in range(3):
        response = client.post("/django-admin/login/", {"username": "root", "password": "x"})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    response = client.post(
        "/django-admin/login/", {"username": "root", "password": "a-long-password-1"}
    )
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in response.content.decode()
    # The same account from another address still gets in.
    other = Client(REMOTE_ADDR="192.0.2.9")
    response = other.post(
        "/django-admin/login/", {"username": "root", "password": "a-long-password-1"}
    )
    assert response.status_code == 302
    assert other.session["_auth_user_id"]


@pytest.mark.django_db
def test_behind_trusted_proxies_the_key_is_the_real_client(cloud, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    attacker = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.5, 10.0.0.7")
    for _ in range(3):
        assert _post(attacker).status_code == 401
    assert _post(attacker, password="secret").status_code == 429
    # The victim, through the same proxy from their own address, is not locked out.
    victim = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _post(victim, password="secret").status_code == 302
    # A forged leftmost hop does not move the attacker to a fresh key.
    forged = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5")
    assert _post(forged, password="secret").status_code == 429


@pytest.mark.django_db
def test_one_address_spraying_user_names_is_refused(cloud, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 4
    sprayer = Client(REMOTE_ADDR="203.0.113.8")
    for n in range(4):
        assert _post(sprayer, user=f"user{n}").status_code == 401
    cloud.reset_stats()
    assert _post(sprayer, user="demo", password="secret").status_code == 429
    assert cloud.stats()["by_route"].get(KEYSTONE_AUTH, 0) == 0
    # Elsewhere, the same account is fine.
    assert _post(Client(REMOTE_ADDR="198.51.100.1"), password="secret").status_code == 302


@pytest.mark.django_db
def test_successful_sign_ins_from_one_address_are_not_counted(cloud, settings):
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 2
    office = {"REMOTE_ADDR": "203.0.113.20"}
    for _ in range(4):
        assert _post(Client(**office), password="secret").status_code == 302


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.1", "198.51.100.1", "203.0.113.1"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3", "198.51.100.1"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.1:443", "198.51.100.1"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),
    ],
)
def test_real_client_addr(peer, forwarded, expected):
    assert real_client_addr(peer, forwarded, ("10.0.0.0/24",)) == expected
