"""Drives `weir server` with the real kfp.Client and prints what it saw as JSON.

    python kfp_client.py HOST TOKEN PIPELINE_YAML SLOW_YAML FLAKY_YAML FLAG_DIR

The Go test (server_test.go) starts the server, runs this script and checks
the JSON. Every step uses only kfp.Client's public methods.
"""
import json
import os
import sys
import time

import kfp

host, token, pipeline, slow, flaky, flag_dir = sys.argv[1:7]
out = {}

# A wrong token is refused.
try:
    kfp.Client(host=host, existing_token="wrong").list_experiments()
    out["wrong_token"] = "accepted"
except Exception as e:  # noqa: BLE001 - being refused is what matters
    # The client gives up in its constructor, whose healthz call gets 401.
    out["wrong_token"] = "refused: %s" % getattr(e, "status", e)

c = kfp.Client(host=host, existing_token=token)

p = c.upload_pipeline(pipeline, pipeline_name="hello-server", description="from kfp.Client")
out["pipeline_id"] = p.pipeline_id
out["pipeline_id_by_name"] = c.get_pipeline_id("hello-server")

exp = c.create_experiment("e2e", description="server e2e")
out["experiment_id"] = exp.experiment_id
out["experiment_again"] = c.create_experiment("e2e").experiment_id

res = c.create_run_from_pipeline_package(pipeline, arguments={"who": "kfp-client"}, run_name="first", experiment_name="e2e")
r = c.wait_for_run_completion(res.run_id, timeout=120)
out["first_state"] = r.state
r = c.get_run(res.run_id)
out["first_tasks"] = sorted((t.display_name, t.state) for t in r.run_details.task_details)
out["first_params"] = r.runtime_config.parameters

flt = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": "first"}]})
lr = c.list_runs(experiment_id=exp.experiment_id, filter=flt, page_size=5)
out["filtered"] = [x.run_id for x in (lr.runs or [])]

v = c.upload_pipeline_version(pipeline, pipeline_version_name="v2", pipeline_id=p.pipeline_id)
rv = c.run_pipeline(experiment_id=exp.experiment_id, job_name="from-version", pipeline_id=p.pipeline_id,
                    version_id=v.pipeline_version_id, params={"who": "versioned"})
out["version_run_state"] = c.wait_for_run_completion(rv.run_id, timeout=120).state

# Terminate a long run.
long = c.create_run_from_pipeline_package(slow, arguments={}, run_name="long", experiment_name="e2e")
for _ in range(100):
    if c.get_run(long.run_id).state == "RUNNING":
        break
    time.sleep(0.1)
c.terminate_run(long.run_id)
# wait_for_run_completion does not count CANCELED as an end state: poll.
for _ in range(300):
    st = c.get_run(long.run_id).state
    if st not in ("RUNNING", "PENDING", "CANCELING"):
        break
    time.sleep(0.1)
out["terminated_state"] = st

# Retry a failed run after fixing what failed.
bad = c.create_run_from_pipeline_package(flaky, arguments={"flag": os.path.join(flag_dir, "ok")}, run_name="flaky",
                                         experiment_name="e2e")
out["flaky_first"] = c.wait_for_run_completion(bad.run_id, timeout=60).state
open(os.path.join(flag_dir, "ok"), "w").close()
# kfp.Client has no retry method; its generated RunServiceApi does.
c._run_api.run_service_retry_run(run_id=bad.run_id)
for _ in range(300):
    st = c.get_run(bad.run_id).state
    if st in ("SUCCEEDED", "FAILED"):
        break
    time.sleep(0.1)
out["flaky_retried"] = st

# A recurring run that fires.
rr = c.create_recurring_run(experiment_id=exp.experiment_id, job_name="every-second", pipeline_package_path=pipeline,
                            params={"who": "scheduled"}, interval_second=1, max_concurrency=1, no_catchup=True)
fired = 0
for _ in range(150):
    flt = json.dumps({"predicates": [{"operation": "EQUALS", "key": "recurring_run_id", "stringValue": rr.recurring_run_id}]})
    fired = c.list_runs(filter=flt).total_size or 0
    if fired >= 2:
        break
    time.sleep(0.1)
out["recurring_fired"] = fired
c.disable_recurring_run(rr.recurring_run_id)
out["recurring_status"] = c.get_recurring_run(rr.recurring_run_id).status

print(json.dumps(out, default=str))
