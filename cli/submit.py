"""`qorch submit train|infer`: build a spec (refusing bad values), then plan or launch it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qorch.cli.common import (
    Detach,
    DryRun,
    RayAddress,
    after_launch,
    labels,
    settings,
    words,
)

submit_app = typer.Typer(no_args_is_help=True, help="Submit a training or inference job.")

Backend = Annotated[str, typer.Option(help="Where circuits run (see `qorch backends`).")]
Shots = Annotated[int | None, typer.Option(
    help="Shots per circuit (statevector: exact unless given; other backends: 1024).")]
Noise = Annotated[str | None, typer.Option(
    help="Noise spec for aer / braket_dm, e.g. depol1=0.001,depol2=0.01,readout=0.02.")]
Threads = Annotated[int | None, typer.Option(
    help="CPU threads for the job (default: all of this machine's on embedded Ray).")]
DataDir = Annotated[Path | None, typer.Option(
    help="Folder with the IDX .gz files; default QORCH_DATA_DIR, else a download cache.")]


def _data_dir(option: Path | None) -> str | None:
    chosen = option or settings().data_dir
    return str(chosen.expanduser().resolve()) if chosen else None


def _plan_or_launch(spec: Any, ray_address: str | None, detach: bool, dry_run: bool) -> None:
    current = settings()
    if dry_run:
        from qorch.orchestrator.planning import plan

        print(json.dumps(plan(current, spec), indent=2))
        return
    from qorch.orchestrator.submit import submit

    after_launch(current, submit(current, spec, address=ray_address, detach=detach), detach)


@submit_app.command("train")
def submit_train(
    dataset: Annotated[str, typer.Option(help="mnist or fashion-mnist.")] = "mnist",
    model: Annotated[str, typer.Option(
        help="hybrid-lenet, qnn, pure-qnn (needs --classes a,b) or cnn.")] = "hybrid-lenet",
    epochs: Annotated[int, typer.Option(help="Passes over the training data.")] = 3,
    batch_size: Annotated[int, typer.Option(help="Images per training step.")] = 64,
    lr: Annotated[float, typer.Option(help="Adam learning rate (peak of the cosine).")] = 3e-3,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same metrics.")] = 0,
    backend: Backend = "statevector",
    shots: Shots = None,
    noise: Noise = None,
    qubits: Annotated[int, typer.Option(help="Qubits of the quantum layer (1..20).")] = 8,
    layers: Annotated[int, typer.Option(help="Variational layers (1..50).")] = 2,
    encoding: Annotated[str, typer.Option(
        help="angle-ry, angle-rx, angle-rz, reupload-ry or reupload-rx.")] = "angle-ry",
    rotations: Annotated[str, typer.Option(help="Trainable rotations: ry, rz, ryrz, rot.")
                         ] = "ryrz",
    entangler: Annotated[str, typer.Option(help="cnot-chain, cnot-ring or cz-ring.")
                         ] = "cnot-chain",
    observables: Annotated[str, typer.Option(help="Comma list of z, zz, probs.")] = "z,zz",
    classes: Annotated[str | None, typer.Option(
        help="Comma list of labels to keep, e.g. 0,1 (required by pure-qnn).")] = None,
    init: Annotated[str, typer.Option(help="Quantum weight init: small, uniform, zeros.")
                    ] = "small",
    trunk: Annotated[str, typer.Option(
        help="CNN trunk of hybrid-lenet and cnn: lenet5 or lenet-wide (20/50 channels).")
    ] = "lenet5",
    schedule: Annotated[str, typer.Option(help="Learning rate: cosine (to 0) or constant.")
                        ] = "cosine",
    gradient: Annotated[str, typer.Option(
        help="Shot backends: parameter-shift (exact in expectation) or spsa (2 rows/sample).")
    ] = "parameter-shift",
    spsa_samples: Annotated[int, typer.Option(help="SPSA directions per sample.")] = 1,
    checkpoint_every: Annotated[int, typer.Option(
        help="Also checkpoint every N steps (0: at each epoch only).")] = 0,
    threads: Threads = None,
    data_dir: DataDir = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
    dry_run: DryRun = False,
) -> None:
    """Train a classifier as a job; attached runs show a progress bar."""
    from qorch.jobs.spec import TrainSpec

    spec = TrainSpec(
        dataset=dataset, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
        train_size=train_size, test_size=test_size, seed=seed, backend=backend,
        checkpoint_every=checkpoint_every, threads=threads, data_dir=_data_dir(data_dir),
        qubits=qubits, layers=layers, encoding=encoding, rotations=rotations,
        entangler=entangler, observables=tuple(words(observables)), shots=shots, init=init,
        classes=tuple(labels(classes)) if classes is not None else None, noise=noise,
        gradient=gradient, spsa_samples=spsa_samples, trunk=trunk, schedule=schedule,
    )
    _plan_or_launch(spec, ray_address, detach, dry_run)


@submit_app.command("infer")
def submit_infer(
    source: Annotated[str, typer.Option("--from", help="The trained job to evaluate.")],
    backend: Backend = "statevector",
    shots: Shots = None,
    noise: Noise = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    batch_size: Annotated[int, typer.Option(help="Images per circuit batch.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the shot sampling.")] = 0,
    threads: Threads = None,
    data_dir: DataDir = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
    dry_run: DryRun = False,
) -> None:
    """Evaluate a trained job's final parameters on any backend: accuracy, per-class accuracy,
    confusion matrix."""
    from qorch.jobs.spec import InferSpec
    from qorch.orchestrator.planning import source_of_inference

    job_id, trained = source_of_inference(settings(), source)
    spec = InferSpec(source_job=job_id, trained=trained, backend=backend, shots=shots,
                     noise=noise, test_size=test_size, batch_size=batch_size, seed=seed,
                     threads=threads, data_dir=_data_dir(data_dir))
    _plan_or_launch(spec, ray_address, detach, dry_run)
