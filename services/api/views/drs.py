"""DRS depth: launch settings of a protection group, tag sync, an execution's recovery instances and job logs."""

from __future__ import annotations

from ..auth import current_principal
from ..container import services
from ..schemas import IdPath
from ..schemas_drs import (
    ForceBody,
    JobLogOut,
    LaunchSettingsOut,
    RecoveryInstanceList,
    RunPath,
    TagSyncOut,
    TagSyncRequest,
    TerminateOut,
)
from .common import CLIENT_ERRORS, errors, respond, secured_blueprint

bp = secured_blueprint("drs", __name__, "/v1", "drs")
ERRORS = {**CLIENT_ERRORS, **errors(502, 503)}


@bp.get("/protection-groups/<id>/launch-settings", responses={200: LaunchSettingsOut, **ERRORS})
def get_launch_settings(path: IdPath):
    """Per DRS source server of the group: `applied`, `drifted` (with the fields) or `failed` (with the error)."""
    return respond(LaunchSettingsOut, services().drs.launch_settings(path.id))


@bp.post("/protection-groups/<id>/launch-settings/apply", responses={200: LaunchSettingsOut, **ERRORS})
def apply_launch_settings(path: IdPath):
    """Write the group's `launchSettings` to each server's DRS launch configuration and EC2 launch template."""
    return respond(LaunchSettingsOut, services().drs.apply_launch_settings(current_principal(), path.id))


@bp.post("/drs/tag-sync", responses={200: TagSyncOut, **ERRORS})
def tag_sync(body: TagSyncRequest):
    """Copy EC2 instance tags to the DRS source servers replicating them (never deletes unless `prune`)."""
    return respond(TagSyncOut, services().drs.tag_sync(body))


@bp.get("/executions/<id>/recovery-instances", responses={200: RecoveryInstanceList, **ERRORS})
def list_recovery_instances(path: IdPath):
    """The DRS recovery instances the execution launched: instance, source server, state, drill, launch time."""
    return respond(RecoveryInstanceList, services().drs.recovery_instances(path.id))


@bp.post("/executions/<id>/terminate-instances", responses={200: TerminateOut, **ERRORS})
def terminate_instances(path: IdPath, body: ForceBody):
    """Terminate the instances an execution launched when its cleanup cannot run (a recovery's: `force`)."""
    return respond(TerminateOut, services().drs.terminate(current_principal(), path.id, body.force))


@bp.get("/executions/<id>/resources/<int:resourceRunId>/log", responses={200: JobLogOut, **ERRORS})
def get_job_log(path: RunPath):
    """The DRS job log items of one resource run's source server, oldest first."""
    return respond(JobLogOut, services().drs.job_log(path.id, path.resource_run_id))
