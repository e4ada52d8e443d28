"""The web console in Debian's headless Chromium (selenium + chromedriver) against the API under
gunicorn. Screenshots of every page go to tests/artifacts/ for a person to look at."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
import requests
from chromium import installed, start_chromium
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from support import create_plan, paused_execution, sim, start, unique, wait_for

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
XSS = "<img src=x onerror=alert(1)>"
WAIT = 60  # seconds: generous, cold starts are slow
STATUS_CELLS = "#execution-rows td:nth-child(2)"  # the executions list's status column


@pytest.fixture(scope="module")
def browser():
    if not installed():
        pytest.fail("needs Debian's chromium and chromium-driver: `make browser` (apt-get install as root)")
    profile = tempfile.mkdtemp(prefix="drwave-chromium-")
    driver = start_chromium(profile, page_load_timeout=WAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def token_of(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def log_in(browser, api_url: str, headers: dict) -> None:
    browser.delete_all_cookies()
    browser.get(f"{api_url}/console/login")
    browser.find_element(By.NAME, "token").send_keys(token_of(headers))
    browser.find_element(By.XPATH, "//button[text()='Log in']").click()
    WebDriverWait(browser, WAIT).until(lambda b: b.current_url.endswith("/console/executions"))


def until(browser, condition, timeout: float = WAIT):
    """Wait for condition(); the live fragments replace elements under us, so a stale one is retried."""
    wait = WebDriverWait(browser, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException])
    return wait.until(lambda b: condition())


def buttons(browser) -> list[str]:
    return [b.text for b in browser.find_elements(By.TAG_NAME, "button") if b.text != "Log out"]


def wave_status(browser, number: int) -> str:
    return browser.find_element(By.ID, f"wave-{number}").get_attribute("data-status")


def shot(browser, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))


def click(browser, text: str) -> None:
    browser.find_element(By.XPATH, f"//button[text()='{text}']").click()


def open_paused_at_failed_databases(browser, api_url: str, client, admin, *failing: str) -> str:
    """An execution PAUSED because its 'Databases' wave (``failing``, onFailure pause) failed before 'App',
    open in the browser; its id."""
    execution_id = paused_execution(
        client,
        admin,
        [{"name": "Databases", "arns": list(failing), "onFailure": "pause"}, {"name": "App", "arns": [sim("app")]}],
    )
    browser.get(f"{api_url}/console/executions/{execution_id}")
    return execution_id


def test_log_in_with_a_token_and_log_out(browser, api_url, token_for):
    browser.delete_all_cookies()
    browser.get(f"{api_url}/console/executions")
    assert browser.current_url.endswith("/console/login")
    shot(browser, "login")
    log_in(browser, api_url, token_for("operator"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Executions"
    shot(browser, "executions")
    browser.find_element(By.XPATH, "//button[text()='Log out']").click()
    until(browser, lambda: browser.current_url.endswith("/console/login"))
    browser.get(f"{api_url}/console/executions")
    assert browser.current_url.endswith("/console/login")


def test_a_running_execution_updates_without_a_reload(browser, api_url, client, admin, token_for):
    """The page is loaded while the execution waits at a gate (a known state); a resume through the API
    (as a chat bot would) then shows up live: wave 2 runs and finishes, with no reload."""
    plan = create_plan(
        client,
        admin,
        [
            {"name": "Data", "arns": [sim("db")]},
            {"name": "App", "arns": [sim("app", ms=3000)], "pauseBeforeWave": True},
        ],
    )
    log_in(browser, api_url, token_for("operator"))
    execution_id = start(client, admin, plan, reason="browser test")
    wait_for(client, admin, execution_id, {"PAUSED"})
    browser.get(f"{api_url}/console/executions/{execution_id}")
    browser.execute_script("window.__notReloaded = true;")
    assert wave_status(browser, 2) == "PENDING"
    assert client.post(f"/v1/executions/{execution_id}/resume", headers=admin).status_code == 200
    until(browser, lambda: wave_status(browser, 2) in ("RUNNING", "SUCCEEDED"))
    until(browser, lambda: wave_status(browser, 2) == "SUCCEEDED")
    until(browser, lambda: "COMPLETED" in browser.find_element(By.ID, "execution-status").text)
    assert browser.execute_script("return window.__notReloaded === true;")
    assert "browser test" in browser.page_source
    browser.get(f"{api_url}/console/executions")
    assert execution_id in browser.find_element(By.ID, "execution-rows").text


def test_the_executions_list_shows_a_new_execution_without_a_reload(browser, api_url, client, admin, token_for):
    plan = create_plan(client, admin, [{"name": "w", "arns": [sim("a")]}])
    log_in(browser, api_url, token_for("read-only"))
    browser.execute_script("window.__notReloaded = true;")
    execution_id = start(client, admin, plan)
    until(browser, lambda: execution_id in browser.find_element(By.ID, "execution-rows").text)
    assert browser.execute_script("return window.__notReloaded === true;")
    rows = browser.find_elements(By.CSS_SELECTOR, "#execution-rows tr")
    assert execution_id in rows[0].text  # newest first


def test_at_a_gate_approve_runs_the_next_wave_and_the_page_shows_who_approved_and_why(
    browser, api_url, client, admin, token_for
):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "Databases", "arns": [sim("db-1"), sim("db-2")]},
            {"name": "App tier", "arns": [sim("app-1", ms=1500), sim("app-2", ms=1500)], "pauseBeforeWave": True},
            {"name": "Web", "arns": [sim("web", ms=500)]},
        ],
    )
    manager = token_for("recovery-manager")
    log_in(browser, api_url, manager)
    execution_id = start(client, admin, plan, reason="quarterly DR drill")
    browser.get(f"{api_url}/console/executions/{execution_id}")
    until(browser, lambda: "Approve" in buttons(browser))  # the actions and the details refresh separately
    until(browser, lambda: "Waiting at the gate before wave 2" in browser.find_element(By.ID, "gate").text)
    shot(browser, "execution-gate")
    browser.find_element(By.ID, "comment").send_keys("databases verified", Keys.TAB)  # by keyboard only
    focused = browser.switch_to.active_element
    assert (focused.tag_name, focused.text) == ("button", "Approve")
    focused.send_keys(Keys.ENTER)
    until(browser, lambda: wave_status(browser, 2) in ("RUNNING", "SUCCEEDED"))
    until(browser, lambda: wave_status(browser, 3) == "SUCCEEDED")
    until(browser, lambda: "Start cleanup" in buttons(browser))  # a finished drill, and the role may clean up
    approver = client.get("/v1/me", headers=manager).get_json()["name"]
    approvals = browser.find_element(By.ID, "approvals").text
    assert f"{approver} (recovery-manager): “databases verified”" in approvals
    shot(browser, "execution")


def test_pause_parks_a_running_execution_and_the_status_filter_lists_it(browser, api_url, client, admin, token_for):
    plan = create_plan(
        client,
        admin,
        [
            {"name": "Data", "arns": [sim("db", ms=4000)]},
            {"name": "App", "arns": [sim("app", ms=4000)]},
            {"name": "Web", "arns": [sim("web")]},
        ],
    )
    log_in(browser, api_url, token_for("operator"))
    execution_id = start(client, admin, plan)
    browser.get(f"{api_url}/console/executions/{execution_id}")
    until(browser, lambda: "Pause" in buttons(browser))
    click(browser, "Pause")
    until(browser, lambda: "PAUSED" in browser.find_element(By.ID, "execution-status").text)
    until(browser, lambda: "Pause" not in buttons(browser) and "Cancel" in buttons(browser))
    shot(browser, "execution-paused")

    browser.get(f"{api_url}/console/executions")
    Select(browser.find_element(By.ID, "status")).select_by_value("PAUSED")
    click(browser, "Filter")
    until(browser, lambda: browser.current_url.endswith("status=PAUSED"))
    until(browser, lambda: execution_id in browser.find_element(By.ID, "execution-rows").text)
    statuses = until(browser, lambda: [c.text for c in browser.find_elements(By.CSS_SELECTOR, STATUS_CELLS)])
    assert all("PAUSED" in status for status in statuses)
    shot(browser, "executions-paused")
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)


def test_skip_a_failed_resource_with_a_reason_then_retry_the_other_to_completion(
    browser, api_url, client, admin, token_for
):
    broken, flaky = sim("db-broken", fail=True), sim("db-flaky", fail_first=1)
    log_in(browser, api_url, token_for("operator"))
    open_paused_at_failed_databases(browser, api_url, client, admin, broken, flaky)
    until(browser, lambda: {"Retry failed resources", "Skip"} <= set(buttons(browser)))
    Select(browser.find_element(By.ID, "skip-arn")).select_by_value(broken)
    browser.find_element(By.ID, "skip-reason").send_keys("host retired")
    browser.find_element(By.XPATH, "//button[text()='Skip']").click()
    until(browser, lambda: "Skipped" in browser.page_source and "host retired" in browser.page_source)
    shot(browser, "execution-skipped")
    browser.find_element(By.ID, "retry-comment").send_keys("replica flapped")
    browser.find_element(By.XPATH, "//button[text()='Retry failed resources']").click()
    until(browser, lambda: wave_status(browser, 2) == "SUCCEEDED")
    until(browser, lambda: "COMPLETED" in browser.find_element(By.ID, "execution-status").text)
    assert "Retry failed resources" not in buttons(browser)


def test_what_an_on_call_types_survives_a_refresh_of_the_buttons_it_belongs_to(
    browser, api_url, client, admin, token_for
):
    first, second = sim("db-a", fail=True), sim("db-b", fail=True)
    log_in(browser, api_url, token_for("operator"))
    execution_id = open_paused_at_failed_databases(browser, api_url, client, admin, first, second)
    until(browser, lambda: "Skip" in buttons(browser))
    browser.execute_script("document.getElementById('comment').keptByTheRefresh = true;")  # not serialised
    time.sleep(3)  # three refreshes of an unchanged fragment: none may replace the page's own form
    assert browser.execute_script("return document.getElementById('comment').keptByTheRefresh === true;")
    browser.find_element(By.ID, "comment").send_keys("checked the replicas by hand")
    browser.find_element(By.TAG_NAME, "h1").click()  # the field loses focus; what was typed stays in it

    skipped = client.post(
        f"/v1/executions/{execution_id}/skip", json={"arn": first, "reason": "retired"}, headers=admin
    )  # someone else's skip changes the buttons' fragment (one failed resource left to skip)
    assert skipped.status_code == 200, skipped.get_json()
    until(browser, lambda: "SKIPPED" in browser.find_element(By.ID, "live").text)  # the page did refresh

    assert browser.find_element(By.ID, "comment").get_attribute("value") == "checked the replicas by hand"
    browser.find_element(By.ID, "comment").clear()  # nothing typed any more: the buttons catch up
    until(browser, lambda: first not in browser.find_element(By.ID, "actions").get_attribute("innerHTML"))


def test_read_only_sees_no_action_buttons_and_a_forged_post_gets_403(browser, api_url, client, admin, token_for):
    execution_id = paused_execution(
        client, admin, [{"name": "w1", "arns": [sim("a")]}, {"name": "w2", "arns": [sim("b")], "pauseBeforeWave": True}]
    )
    log_in(browser, api_url, token_for("read-only"))
    browser.get(f"{api_url}/console/executions/{execution_id}")
    until(browser, lambda: browser.find_elements(By.ID, "gate"))
    assert buttons(browser) == []
    shot(browser, "execution-read-only")
    csrf = browser.find_element(By.NAME, "csrf_token").get_attribute("value")
    cookie = browser.get_cookie("drwave_console")["value"]
    forged = requests.post(
        f"{api_url}/console/executions/{execution_id}/approve",
        data={"csrf_token": csrf},
        cookies={"drwave_console": cookie},
        timeout=10,
    )
    assert forged.status_code == 403 and "FORBIDDEN" in forged.text
    assert client.get(f"/v1/executions/{execution_id}", headers=admin).get_json()["status"] == "PAUSED"
    client.post(f"/v1/executions/{execution_id}/cancel", headers=admin)


def test_a_hostile_plan_name_renders_as_text(browser, api_url, client, admin, token_for):
    name = unique(XSS)  # names are unique
    group = client.post(
        "/v1/protection-groups",
        json={"name": name, "region": "us-west-2", "selection": {"resourceArns": [sim("x")]}},
        headers=admin,
    ).get_json()
    plan = client.post(
        "/v1/recovery-plans",
        json={"name": name, "waves": [{"name": XSS, "protectionGroupIds": [group["id"]]}]},
        headers=admin,
    ).get_json()
    log_in(browser, api_url, token_for("recovery-manager"))
    browser.get(f"{api_url}/console/plans")
    assert browser.find_element(By.LINK_TEXT, name)
    assert browser.execute_script("return document.querySelectorAll('main img').length") == 0
    shot(browser, "plans")
    browser.get(f"{api_url}/console/plans/{plan['id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Plan {name}"
    browser.find_element(By.XPATH, "//button[text()='Validate']").click()
    until(browser, lambda: browser.find_elements(By.ID, "validation"))
    assert "RTO estimate" in browser.find_element(By.ID, "validation").text
    assert browser.execute_script("return document.querySelectorAll('main img').length") == 0
    shot(browser, "plan-validated")
    browser.get(f"{api_url}/console/groups")
    shot(browser, "groups")
    browser.get(f"{api_url}/console/groups/{group['id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Protection group {name}"
    shot(browser, "group")
    browser.get(f"{api_url}/console/groups/preview")
    browser.find_element(By.ID, "region").send_keys("us-west-2")
    browser.find_element(By.ID, "tags").send_keys("Customer=NOBODY")
    browser.find_element(By.XPATH, "//button[text()='Preview']").click()
    until(browser, lambda: browser.find_elements(By.ID, "preview-result"))
    shot(browser, "preview")


def test_healthz_answers_while_the_browser_holds_keep_alive_connections(browser, api_url, token_for):
    """Two console pages open (their keep-alive sockets idle in gunicorn): the API still answers at once.
    The request timeout is a few seconds; with sync workers this waited for the browser's sockets."""
    log_in(browser, api_url, token_for("read-only"))
    browser.get(f"{api_url}/console/plans")
    browser.switch_to.new_window("tab")
    browser.get(f"{api_url}/console/groups")
    for _ in range(5):
        assert requests.get(f"{api_url}/healthz", timeout=5).status_code == 200
    browser.close()
    browser.switch_to.window(browser.window_handles[0])
