"""`qorch submit train|infer`: options in, one facade call, the plan or the run out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qorch.cli.common import (
    App,
    Cpus,
    Detach,
    DryRun,
    JsonFlag,
    MaxRestarts,
    RayAddress,
    Resources,
    after_submit,
    labels,
    pairs,
    service,
    words,
)
from qorch.cli.plan_view import print_plan

submit_app = App(help="Submit a training or inference job.")

Backend = Annotated[str, typer.Option(help="Where circuits run (see `qorch backends`).")]
Shots = Annotated[int | None, typer.Option(
    help="Shots per circuit. Exact backends (statevector): exact unless given; others: 1024.")]
Noise = Annotated[str | None, typer.Option(
    help="Noise for backends that take it (aer, braket_dm), e.g. depol1=0.001,depol2=0.01.")]
DataDir = Annotated[Path | None, typer.Option(
    help="Folder with the IDX .gz files; default QORCH_DATA_DIR, else a download cache.")]
Engine = Annotated[str | None, typer.Option(
    help="Simulator of fake_<device> and aer --noise: torch (the default: batched density "
         "matrices, differentiable) or aer (for cross-checks).")]
Mitigate = Annotated[str | None, typer.Option(
    help="readout: correct outputs for readout errors (device calibration on fake devices and "
         "noise models, calibration circuits in the same job on hardware).")]


def _launch(spec: Any, ray_address: str | None, detach: bool, dry_run: bool,
            as_json: bool) -> None:
    if dry_run:
        print_plan(service().plan(spec), as_json)
        return
    if as_json:
        raise typer.BadParameter("--json applies to --dry-run plans only", param_hint="--json")
    job_id = service().submit(spec, ray_address=ray_address)
    after_submit(job_id, detach)


@submit_app.command("train")
def submit_train(
    recipe: Annotated[str | None, typer.Option(
        help="A named model setup (see `qorch recipes`); options given override it.")] = None,
    dataset: Annotated[str | None, typer.Option(help="The image dataset (default mnist).")
                       ] = None,
    model: Annotated[str | None, typer.Option(
        help="The model (default hybrid-lenet; pure-qnn needs --classes a,b).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the training data.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Images per training step.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (cosine peak).")] = None,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same metrics.")] = 0,
    backend: Backend = "statevector",
    shots: Shots = None,
    noise: Noise = None,
    qubits: Annotated[int | None, typer.Option(help="Qubits of the quantum layer (1..20).")
                      ] = None,
    layers: Annotated[int | None, typer.Option(help="Variational layers (1..50).")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="How images enter the circuit (zz-feature: Qiskit's ZZ feature map).")] = None,
    rotations: Annotated[str | None, typer.Option(help="Trainable rotations.")
                         ] = None,
    entangler: Annotated[str | None, typer.Option(
        help="Entangling gates (cnot-chain-reverse: RealAmplitudes' order; strong: strongly "
             "entangling, range growing per layer).")] = None,
    final_rotations: Annotated[str | None, typer.Option(
        help="One more trainable rotation layer after the last entangler.")] = None,
    observables: Annotated[str | None, typer.Option(
        help="What the circuit measures, a comma list.")] = None,
    classes: Annotated[str | None, typer.Option(
        help="Comma list of labels to keep, e.g. 0,1 (required by pure-qnn).")] = None,
    init: Annotated[str | None, typer.Option(help="Quantum weight init.")
                    ] = None,
    trunk: Annotated[str | None, typer.Option(
        help="CNN trunk of hybrid-lenet and cnn (lenet-wide: 20/50 channels).")
    ] = None,
    head: Annotated[str | None, typer.Option(
        help="Classical readout of hybrid-lenet and qnn (mlp: 64 ReLU units).")] = None,
    schedule: Annotated[str, typer.Option(help="Learning-rate schedule (cosine: to 0).")
                        ] = "cosine",
    gradient: Annotated[str | None, typer.Option(
        help="autograd (differentiable backends; the default on exact ones), parameter-shift "
             "(the default elsewhere) or spsa.")] = None,
    spsa_samples: Annotated[int | None, typer.Option(
        help="SPSA directions per sample (with --gradient spsa).")] = None,
    checkpoint_every: Annotated[int, typer.Option(
        help="Also checkpoint every N steps (0: at each epoch only).")] = 0,
    engine: Engine = None,
    mitigate: Mitigate = None,
    cpus: Cpus = 1,
    max_restarts: MaxRestarts = 3,
    resources: Resources = None,
    data_dir: DataDir = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Train a classifier as a job; attached runs follow it until it ends."""
    options: dict[str, Any] = dict(
        recipe=recipe, dataset=dataset, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
        train_size=train_size, test_size=test_size, seed=seed, backend=backend, shots=shots,
        noise=noise, qubits=qubits, layers=layers, encoding=encoding, rotations=rotations,
        entangler=entangler, final_rotations=final_rotations, head=head, init=init,
        trunk=trunk, schedule=schedule, gradient=gradient,
        spsa_samples=spsa_samples, checkpoint_every=checkpoint_every, cpus=cpus,
        max_restarts=max_restarts, data_dir=data_dir, engine=engine, mitigate=mitigate,
        observables=tuple(words(observables)) if observables is not None else None,
        classes=tuple(labels(classes)) if classes is not None else None,
        resources=pairs(resources) if resources is not None else None,
    )
    _launch(service().train_spec(options), ray_address, detach, dry_run, as_json)


@submit_app.command("infer")
def submit_infer(
    source: Annotated[str, typer.Option("--from", help="The trained job to evaluate.")],
    backend: Backend = "statevector",
    shots: Shots = None,
    noise: Noise = None,
    test_size: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    batch_size: Annotated[int | None, typer.Option(
        help="Images per circuit batch (default: as few provider jobs as the backend "
             "allows).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the shot sampling.")] = 0,
    engine: Engine = None,
    mitigate: Mitigate = None,
    cpus: Cpus = 1,
    max_restarts: MaxRestarts = 3,
    resources: Resources = None,
    data_dir: DataDir = None,
    ray_address: RayAddress = None,
    detach: Detach = False,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate a trained job's final parameters on any backend: accuracy, per-class accuracy,
    confusion matrix."""
    options: dict[str, Any] = dict(
        backend=backend, shots=shots, noise=noise, test_size=test_size, batch_size=batch_size,
        seed=seed, cpus=cpus, max_restarts=max_restarts, data_dir=data_dir, engine=engine,
        mitigate=mitigate, resources=pairs(resources) if resources is not None else None)
    _launch(service().infer_spec(source, options), ray_address, detach, dry_run, as_json)
