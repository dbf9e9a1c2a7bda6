"""A newcomer's first minutes: sign in as each demo user, switch project, sign out."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("user", "role"), [("demo", "member"), ("admin", "admin"), ("auditor", "reader")]
)
def test_each_demo_user_signs_in_and_out(page, sign_in, user, role):
    sign_in(page, user)
    assert page.locator("#current-user").inner_text().strip() == user
    assert page.locator("#current-role").inner_text().strip() == role
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/login/")
    assert "You are signed out." in page.content()
    page.goto("/snapshots/")
    page.wait_for_url("**/auth/login/?next=/snapshots/")


def test_wrong_password_shows_an_error_next_to_the_form(page):
    page.goto("/auth/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "Wrong user name, password or domain" in page.locator("#login-error").inner_text()
    assert page.input_value("#id_username") == "demo"


def test_project_switcher(page, sign_in):
    sign_in(page, "demo")
    assert page.locator("#project-select option:checked").inner_text() == "alpha"
    with page.expect_navigation():
        page.select_option("#project-select", label="beta")
    assert page.locator("#project-select option:checked").inner_text() == "beta"
    assert "Now working in project beta" in page.content()


def test_login_page_is_accessible(page, axe_violations):
    page.goto("/auth/login/")
    assert axe_violations(page) == []
