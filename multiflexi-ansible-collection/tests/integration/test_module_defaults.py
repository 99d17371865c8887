from __future__ import annotations


def test_module_defaults_set_the_connection_once_for_every_module(play, stack, admin):
    login, password = admin
    done = play(
        "module_defaults.yml", environment=False, url=stack.url, login=login, password=password
    )
    assert done.rc == 0, done.stdout[-3000:]
    assert done.results["Installation"]["user"]["login"] == login
    assert isinstance(done.results["Companies"]["companies"], list)


def test_a_wrong_password_fails_the_task_with_the_servers_answer_and_no_secret(play, stack):
    # another login than the administrator's: failed sign-ins are throttled per login
    wrong = "not-the-password-8812"
    done = play(
        "module_defaults.yml", environment=False, url=stack.url, login="nobody", password=wrong
    )
    assert done.rc != 0
    failed = done.results["Installation"]
    assert failed["_status"] == "failed" and failed["status"] == 401
    assert "GET /api/v1/me answered 401" in failed["msg"]
    assert wrong not in done.stdout
