"""The `qorch` command as a user runs it: real processes, real store, real embedded Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qorch.orchestrator.store.migrate import head_revision

QORCH = [str(Path(sys.executable).parent / "qorch")]  # the installed command


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 300
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QORCH, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str
                          ) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qorch: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def job_count() -> int:
    return len(json.loads(run(["list", "--json"]).stdout))


@pytest.mark.usefixtures("on_cluster")
def test_attached_train_then_status_list_logs(mnist_dir: Path) -> None:
    result = run(["submit", "train", "--epochs", "1", "--train-size", "600", "--test-size", "200",
                  "--data-dir", str(mnist_dir), "--seed", "5"])
    assert result.returncode == 0, result.stderr
    final = result.stdout.strip().splitlines()[-1]
    assert "SUCCEEDED" in final and "test accuracy" in final
    job_id = final.split()[1]

    status = json.loads(run(["status", job_id, "--json"]).stdout)
    assert status["state"] == "SUCCEEDED" and status["id"] == job_id
    assert status["progress"] == {"step": 10, "total_steps": 10}
    assert 0.0 < status["result"]["test_accuracy"] <= 1.0
    assert status["metrics"]["test_accuracy"]["epoch"] == 1
    assert status["spec"]["seed"] == 5 and status["checkpoints"] == 2

    listed = json.loads(run(["list", "--json", "--state", "succeeded"]).stdout)
    assert [j["id"] for j in listed] == [job_id]
    assert json.loads(run(["list", "--json", "--state", "failed"]).stdout) == []

    logs = run(["logs", job_id]).stdout
    assert "QUEUED -> RUNNING" in logs and "metric epoch=1 step=10 loss=" in logs
    human = run(["status", job_id]).stdout
    assert "SUCCEEDED" in human and "test_accuracy" in human
    assert_one_line_error(run(["cancel", job_id]), 1, "already SUCCEEDED")


@pytest.mark.usefixtures("on_cluster")
def test_detached_run_finishes_in_the_background(mnist_dir: Path) -> None:
    result = run(["submit", "train", "--epochs", "1", "--train-size", "300", "--test-size", "100",
                  "--data-dir", str(mnist_dir), "--detach"])
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    assert len(job_id) == 12
    deadline = time.monotonic() + 180
    while (state := json.loads(run(["status", job_id, "--json"]).stdout)["state"]) not in (
            "SUCCEEDED", "FAILED", "CANCELLED"):
        assert time.monotonic() < deadline, state
        time.sleep(1)
    assert state == "SUCCEEDED"
    follow = run(["logs", job_id, "-f"], timeout=30)
    assert "RUNNING -> SUCCEEDED" in follow.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--dataset", "cifar10"], ["--dataset 'cifar10' is not accepted", "mnist, fashion"]),
        (["--model", "resnet"], ["--model 'resnet'", "hybrid-lenet, qnn, pure-qnn, cnn"]),
        (["--backend", "nope"], ["unknown backend 'nope'", "statevector"]),
        (["--epochs", "0"], ["--epochs must be an integer in 1..1000; got 0"]),
        (["--batch-size", "-4"], ["--batch-size must be an integer in 1..65536; got -4"]),
        (["--lr", "0"], ["--lr must be a number greater than 0"]),
        (["--train-size", "70000"], ["--train-size must be an integer in 1..60000"]),
        (["--test-size", "0"], ["--test-size must be an integer in 1..10000"]),
        (["--epochs", "many"], ["'--epochs'"]),
        (["--wat"], ["No such option: --wat"]),
        (["--qubits", "0"], ["--qubits must be an integer in 1..20, got 0"]),
        (["--layers", "60"], ["--layers must be an integer in 1..50, got 60"]),
        (["--model", "pure-qnn"], ["give two classes, e.g. --classes 0,1"]),
        (["--model", "pure-qnn", "--classes", "0,x"], ["expected comma-separated labels"]),
        (["--model", "pure-qnn", "--classes", "0,1,2"], ["exactly two classes"]),
        (["--observables", "y"], ["observables must be"]),
        (["--shots", "0"], ["--shots must be an integer in 1..1000000000"]),
        (["--gradient", "adjoint"], ["--gradient 'adjoint'", "autograd, parameter-shift, spsa"]),
        (["--noise", "depol1=0.1"], ["statevector does not take --noise", "aer"]),
        (["--model", "cnn", "--shots", "100"], ["--shots 100 would be ignored: model cnn"]),
        (["--model", "cnn", "--qubits", "4"], ["--qubits 4 would be ignored: model cnn"]),
        (["--model", "qnn", "--trunk", "lenet5"], ["--trunk lenet5 would be ignored"]),
        (["--spsa-samples", "4"], ["--spsa-samples 4 would be ignored"]),
        (["--trunk", "resnet"], ["--trunk 'resnet' is not accepted", "lenet5, lenet-wide"]),
        (["--schedule", "step"], ["--schedule 'step' is not accepted"]),
        (["--seed", "99999999999999999999999"], ["--seed must be an integer in 0..4294967295"]),
        (["--cpus", "0"], ["--cpus must be a number in 0.1..1024"]),
        (["--resources", "gpu"], ["expected NAME=AMOUNT pairs"]),
        (["--json"], ["--json applies to --dry-run plans only"]),
    ],
)
@pytest.mark.usefixtures("home")
def test_bad_submissions_are_refused_without_a_row(args: list[str], needles: list[str]) -> None:
    assert_one_line_error(run(["submit", "train", *args]), 2, *needles)
    assert job_count() == 0


@pytest.mark.usefixtures("home")
def test_missing_dataset_file_is_refused_without_a_row(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run(["submit", "train", "--data-dir", str(empty)]), 1,
                          "train-images-idx3-ubyte.gz of mnist is not in")
    assert job_count() == 0


@pytest.mark.usefixtures("home")
def test_unknown_job_ids() -> None:
    for command in (["status", "0123456789ab"], ["logs", "0123456789ab"],
                    ["cancel", "0123456789ab"], ["resume", "0123456789ab"]):
        assert_one_line_error(run(command), 1, "no job with id '0123456789ab'")
    for pattern in ("____", "%%%%"):
        assert_one_line_error(run(["cancel", pattern]), 1, "hexadecimal")
    assert_one_line_error(run(["status", "012"]), 1, "at least 4 characters")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", "cannot open the database"),
        ("nonsense", "malformed database URL 'nonsense'"),
        ("oracle://x@y/z", "unsupported database 'oracle'"),
        ("postgresql+asyncpg://u@127.0.0.1/test", "driver 'asyncpg'"),
        ("sqlite://", "in-memory database"),
    ],
)
@pytest.mark.usefixtures("home")
def test_bad_database_urls(url: str, needle: str) -> None:
    assert_one_line_error(run(["list"], env={"QORCH_DATABASE_URL": url}), 1, needle)


def test_unwritable_home(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(["list"], env={"QORCH_HOME": str(blocker / "home")})
    assert_one_line_error(result, 1, "is not a writable folder", "set QORCH_HOME")


@pytest.mark.usefixtures("home")
def test_debug_shows_the_traceback() -> None:
    result = run(["--debug", "status", "0123456789ab"])
    assert result.returncode == 1 and "Traceback" in result.stderr


@pytest.mark.usefixtures("home")
def test_list_and_status_import_no_heavy_packages() -> None:
    script = (
        "import sys\n"
        "from qorch.cli.app import main\n"
        "for argv in (['qorch', 'list', '--json'], ['qorch', 'status', 'x', '--json'],"
        " ['qorch', 'list']):\n"
        "    sys.argv = argv\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('torch', 'ray', 'qiskit', 'pennylane', 'braket')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.usefixtures("home")
def test_db_upgrade_reports_the_revision() -> None:
    result = run(["db", "upgrade"])
    assert result.returncode == 0 and head_revision() in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (["--backend", "ibm_brisbane"], 1, ["ibm_brisbane is retired", "fake_brisbane"]),
        (["--backend", "ibm_fez"], 1, ["no IBM Quantum credentials", "QISKIT_IBM_TOKEN"]),
        (["--backend", "braket:sv1"], 1, ["no AWS credentials"]),
        (["--backend", "aer", "--noise", "bogus=1"], 2, ["unknown noise key 'bogus'", "depol1"]),
        (["--backend", "fake_manila", "--qubits", "6"], 2, ["fake_manila takes at most 5 qubits"]),
        (["--backend", "aer", "--gradient", "autograd"], 2, ["needs a differentiable backend"]),
        (["--backend", "ibm_nowhere"], 1, ["no IBM Quantum credentials", "not among"]),
        (["--backend", "fake_nowhere"], 1, ["unknown fake device 'fake_nowhere'"]),
    ],
)
def test_backends_refuse_before_anything_is_spent(
    home: Path, mnist_dir: Path, args: list[str], code: int, needles: list[str]
) -> None:
    env = {"QISKIT_IBM_TOKEN": "", "HOME": str(home), "AWS_CONFIG_FILE": str(home / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"), "AWS_ACCESS_KEY_ID": "",
           "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true"}
    result = run(["submit", "train", "--data-dir", str(mnist_dir), *args], env=env, timeout=120)
    assert_one_line_error(result, code, *needles)
    assert job_count() == 0


@pytest.mark.usefixtures("home")
def test_dry_run_plans_without_a_job(mnist_dir: Path) -> None:
    result = run(["submit", "train", "--backend", "fake_brisbane", "--batch-size", "32",
                  "--qubits", "4", "--epochs", "1", "--train-size", "64", "--test-size", "32",
                  "--data-dir", str(mnist_dir), "--dry-run", "--json"])
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["provider_jobs_per_step"] == 1 and plan["steps"] == 2
    assert plan["circuits_per_step"] == 32 * (1 + 2 * (4 + 16))
    assert plan["provider_jobs"] == 3 and plan["shots"] == (2 * 1312 + 32) * 1024
    assert job_count() == 0


@pytest.mark.usefixtures("home")
def test_backends_listing() -> None:
    rows = json.loads(run(["backends", "--json"]).stdout)
    by_name = {row["name"]: row for row in rows}
    assert by_name["statevector"]["kind"] == "simulator"
    assert by_name["fake_brisbane"]["qubits"] == 127
    assert by_name["ibm_brisbane"]["retired"] is True
    assert "fake_brisbane" in run(["backends"]).stdout


@pytest.mark.usefixtures("on_cluster")
def test_infer_needs_a_succeeded_training_job(mnist_dir: Path) -> None:
    assert_one_line_error(run(["submit", "infer", "--from", "0123456789ab"]), 1,
                          "no job with id '0123456789ab'")
    unplaceable = run(["submit", "train", "--data-dir", str(mnist_dir), "--detach",
                       "--resources", "no_such_node=1"])
    assert_one_line_error(unplaceable, 1, "no node of the cluster has that")
    assert job_count() == 0  # refused before anything was written
    long_job = run(["submit", "train", "--data-dir", str(mnist_dir), "--detach"])
    job_id = long_job.stdout.strip()
    assert run(["cancel", job_id]).returncode == 0  # three full epochs: far from done
    deadline = time.monotonic() + 120
    while json.loads(run(["status", job_id, "--json"]).stdout)["state"] != "CANCELLED":
        assert time.monotonic() < deadline
        time.sleep(1)
    assert_one_line_error(run(["submit", "infer", "--from", job_id]), 1,
                          "is a CANCELLED train job; --from needs a SUCCEEDED training job")


def _job_running(home: Path) -> str | None:
    listed = json.loads(run(["list", "--json"]).stdout)
    running = [j["id"] for j in listed if j["state"] == "RUNNING"]
    return running[0] if running else None


def _attached(mnist_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*QORCH, "submit", "train", "--model", "cnn", "--epochs", "20",
                             "--data-dir", str(mnist_dir)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _wait_running(home: Path) -> str:
    deadline = time.monotonic() + 120
    while (job_id := _job_running(home)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    return job_id


def test_ctrl_c_cancels_and_waits_then_a_second_leaves_it_running(
        on_cluster: Path, mnist_dir: Path) -> None:
    import signal

    first = _attached(mnist_dir)
    job_id = _wait_running(on_cluster)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130 and f"cancelling job {job_id}" in err
    assert json.loads(run(["status", job_id, "--json"]).stdout)["state"] == "CANCELLED"
    assert "Traceback" not in err

    second = _attached(mnist_dir)
    job_id = _wait_running(on_cluster)
    second.send_signal(signal.SIGINT)
    time.sleep(0.3)
    second.send_signal(signal.SIGINT)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 130 and f"left job {job_id} running" in err
    state = json.loads(run(["status", job_id, "--json"]).stdout)["state"]
    assert state in ("RUNNING", "CANCELLING", "CANCELLED")  # a driver owns it either way
    run(["cancel", job_id])


def test_sigterm_leaves_the_job_running_and_says_so_in_one_line(
        on_cluster: Path, mnist_dir: Path) -> None:
    import signal

    attached = _attached(mnist_dir)
    job_id = _wait_running(on_cluster)
    attached.send_signal(signal.SIGTERM)
    _, err = attached.communicate(timeout=60)
    assert attached.returncode == 143
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines == [lines[-1]] and f"job {job_id} keeps running" in lines[-1], err
    assert json.loads(run(["status", job_id, "--json"]).stdout)["state"] == "RUNNING"
    assert run(["cancel", job_id]).returncode == 0


@pytest.mark.usefixtures("home")
def test_more_bad_input_is_one_clear_line() -> None:
    assert_one_line_error(run(["list", "--limit", "99999999999999999999"]), 2, "--limit")
    assert_one_line_error(run(["submit", "train", "--ray-address", "127.0.0.1:1"]), 1,
                          "no Ray cluster answers at 127.0.0.1:1")
    assert_one_line_error(run(["submit", "train", "--ray-address", "nonsense"]), 1,
                          "is not HOST:PORT")
    assert_one_line_error(run(["list"], env={"QORCH_DATABASE_URL": "sqlite:///x.db?timeout=z"}),
                          1, "?timeout=z")
    assert_one_line_error(run(["list"], env={"QORCH_HEARTBEAT_TIMEOUT": "soon"}), 1,
                          "QORCH_HEARTBEAT_TIMEOUT='soon'")


def test_a_bad_ibm_token_and_an_unknown_device_get_one_line(home: Path, mnist_dir: Path) -> None:
    env = {"HOME": str(home), "QISKIT_IBM_TOKEN": "x" * 44}
    bad = run(["submit", "train", "--data-dir", str(mnist_dir), "--backend", "ibm_fez"],
              env=env, timeout=180)
    assert_one_line_error(bad, 1, "IBM Quantum")
    nowhere = run(["submit", "train", "--data-dir", str(mnist_dir), "--backend", "ibm_nowhere"],
                  env={"HOME": str(home), "QISKIT_IBM_TOKEN": ""})
    assert_one_line_error(nowhere, 1, "ibm_nowhere is not among the IBM devices qorch knows")
    assert job_count() == 0


def test_many_first_commands_on_a_fresh_store_all_succeed(home: Path) -> None:
    procs = [subprocess.Popen([*QORCH, "list", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(24)]
    failures = [p.communicate(timeout=300)[1] for p in procs]
    assert [f for p, f in zip(procs, failures, strict=True) if p.returncode] == []


def test_cluster_up_status_down_leaves_no_process(home: Path) -> None:
    from qorch.orchestrator.runtime.cluster import read_info, session_members
    from qorch.orchestrator.settings import Settings

    assert run(["cluster", "up"]).returncode == 0
    info = read_info(Settings.from_env())
    assert info is not None and info.address.startswith("127.0.0.1:")
    members = session_members(info.head_pid)
    assert len(members) >= 3  # the head, its GCS and raylet at least
    status = json.loads(run(["cluster", "status", "--json"]).stdout)
    assert status["address"] == info.address and status["cpus"] >= 1
    assert run(["cluster", "down"]).stdout.strip() == "stopped"
    assert session_members(info.head_pid) == []
    assert run(["cluster", "down"]).stdout.strip() == "no cluster was running"
