"""Deployments on the campaign's dates; deploying again after a change replaces schedules."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from config.campaign_files import read_campaign
from config.settings import get_settings
from flows.deployments import deploy_campaign


def schedules_of(name: str) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        return {str(s.slug): s.schedule.rrule for s in deployment.schedules}  # type: ignore[union-attr]


def test_deploy_and_redeploy_after_the_file_changed(campaigns_elsewhere: Path) -> None:
    folder = campaigns_elsewhere
    names = deploy_campaign(read_campaign(get_settings(), "mass-line-2013"))
    assert sorted(names) == [
        "close-phase/mass-line-2013",
        "open-phase/mass-line-2013",
        "refresh-progress/mass-line-2013",
        "remind-due/daily",
        "rollout-campaign/mass-line-2013",
    ]
    opens = schedules_of("open-phase/mass-line-2013")
    assert len(opens) == 5
    assert opens["criticism"].startswith("DTSTART:20131008T070000")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("open-phase/mass-line-2013")
        tz = {s.slug: s.schedule.timezone for s in deployment.schedules}  # type: ignore[union-attr]
        params = {s.slug: s.parameters for s in deployment.schedules}
    assert set(tz.values()) == {"Asia/Shanghai"}
    assert params["criticism"] == {"phase": "criticism", "on": "2013-10-08"}

    path = folder / "mass-line-2013.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    start: 2013-11-01\n", "    start: 2013-11-04\n"
        ),
        encoding="utf-8",
    )
    deploy_campaign(read_campaign(get_settings(), "mass-line-2013"))
    again = schedules_of("open-phase/mass-line-2013")
    assert len(again) == 5
    assert again["rectification"].startswith("DTSTART:20131104T070000")
    assert again["criticism"] == opens["criticism"]


def test_a_campaign_with_inspections_gets_a_daily_inspection_run() -> None:
    names = deploy_campaign(read_campaign(get_settings(), "cadre-pairing-2013"))
    assert "inspect-campaign/cadre-pairing-2013" in names
    daily = schedules_of("inspect-campaign/cadre-pairing-2013")["daily"]
    # from the first day to the last plus twice the 30 days a rectification is given
    assert daily == "DTSTART:20130912T080000\nRRULE:FREQ=DAILY;UNTIL=20150301T080000"


def test_deploying_to_a_pool_gives_its_workers_module_entrypoints_and_a_batch_deployment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.pool import ZOMBIE_AUTOMATION
    from models.errors import CampaignError

    monkeypatch.setenv("CAMPAIGN_ZOMBIE_AFTER_SECONDS", "90")
    get_settings.cache_clear()
    loaded = read_campaign(get_settings(), "cadre-pairing-2013")
    with pytest.raises(CampaignError, match="prefect work-pool create town-pool --type process"):
        deploy_campaign(loaded, "town-pool")
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="town-pool", type="process"))
    names = deploy_campaign(loaded, "town-pool")
    assert "rollout-batch/cadre-pairing-2013" in names
    with get_client(sync_client=True) as client:
        plain = client.read_deployment_by_name("rollout-campaign/cadre-pairing-2013")
    assert "batch_deployment" not in plain.parameters  # the rollout writes in its own run
    deploy_campaign(loaded, "town-pool", fan_out=True)
    with get_client(sync_client=True) as client:
        rollout = client.read_deployment_by_name("rollout-campaign/cadre-pairing-2013")
        batch = client.read_deployment_by_name("rollout-batch/cadre-pairing-2013")
        inspect = client.read_deployment_by_name("inspect-campaign/cadre-pairing-2013")
        automations = client.read_automations_by_name(ZOMBIE_AUTOMATION)
    assert rollout.work_pool_name == batch.work_pool_name == inspect.work_pool_name == "town-pool"
    assert rollout.entrypoint == "flows.rollout.rollout_campaign"
    assert batch.entrypoint == "flows.rollout_batch.rollout_batch"
    assert rollout.parameters["batch_deployment"] == "rollout-batch/cadre-pairing-2013"
    assert len(automations) == 1
    assert automations[0].trigger.within.total_seconds() == 90  # type: ignore[union-attr]
    # a run whose worker died before its first heartbeat (picked up, Pending) is caught too
    assert "prefect.flow-run.Pending" in automations[0].trigger.after  # type: ignore[union-attr]
    assert "prefect.flow-run.Suspended" in automations[0].trigger.expect  # type: ignore[union-attr]
    monkeypatch.setenv("CAMPAIGN_ZOMBIE_AFTER_SECONDS", "120")
    get_settings.cache_clear()
    deploy_campaign(loaded, "town-pool", fan_out=True)  # again: one automation, brought up to date
    with get_client(sync_client=True) as client:
        again = client.read_automations_by_name(ZOMBIE_AUTOMATION)
    assert len(again) == 1
    assert again[0].id == automations[0].id
    assert again[0].trigger.within.total_seconds() == 120  # type: ignore[union-attr]
