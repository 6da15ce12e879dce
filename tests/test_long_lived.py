"""The worker freezes long-lived objects out of the garbage collector's reach
(streams/long_lived.py). That is safe only while a patient's engine state holds no reference
cycles: then a patient the engine forgets is freed by reference counting, frozen or not. This
test keeps it so, with patients in every kind of state: febrile with open episodes, on oxygen,
acknowledged, restored from a snapshot, silent past signal loss, discharged, with lab results.
"""

from __future__ import annotations

import gc

from monitor.engine import Engine
from streams.long_lived import LongLivedObjects
from tests.support.clinical import Bedside


def busy_ward(engine: Engine) -> list[str]:
    ids = []
    for n in range(6):
        bed = Bedside(engine, patient_id=f"MRN-{n:06d}")
        ids.append(bed.patient_id)
        bed.therapy(bed.at(0))
        for test, value, unit in (("creatinine", 1.1, "mg/dL"), ("crp", 40, "mg/L"), ("platelets", 60, "10^9/L")):
            bed.event(bed.at(0.5), type="lab", test=test, value=value, unit=unit)  # a lab history, its status parts
        for minute in range(1, 90):
            febrile = n % 2 == 0 and minute > 30
            bed.vitals(
                bed.at(minute),
                heart_rate=118 if febrile else 80,
                systolic_bp=88 if febrile else 120,
                temperature=38.9 if febrile else 37.0,
                spo2=91 if febrile else 97,
                respiratory_rate=22,
            )
        if n == 2:
            bed.oxygen(bed.at(91), "nasal_cannula", 3)
            for alert in bed.firing():
                bed.acknowledge(bed.at(92), alert.episode_id)
        if n == 3:
            bed.discharge(bed.at(93))
    engine.advance_to(Bedside().at(200))  # signal loss for the silent ones
    snapshot = engine.snapshot(ids[0])
    engine.forget(ids[0])
    engine.restore(ids[0], snapshot)
    return ids


def test_a_forgotten_patient_leaves_no_cyclic_garbage() -> None:
    engine = Engine()
    ids = busy_ward(engine)
    assert any(engine.episode(pid, "crs") is not None for pid in ids)  # the states are not trivial
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for patient_id in list(engine.patients()):
            engine.forget(patient_id)
        gc.collect()
        ours = [obj for obj in gc.garbage if type(obj).__module__.startswith("monitor")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == [], f"reference cycles in forgotten patient state: {sorted({type(o).__name__ for o in ours})}"


def test_the_worker_freezes_after_recovery_and_again_when_the_ward_has_grown_by_half() -> None:
    long_lived = LongLivedObjects(growth=1.5, minimum_patients=10)
    try:
        long_lived.counted(5_000)
        assert gc.get_freeze_count() == 0  # nothing before recovery
        long_lived.recovered(100)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        kept = [object() for _ in range(3)], {"new": []}  # noqa: F841 - alive, tracked
        long_lived.counted(149)
        assert gc.get_freeze_count() == frozen
        long_lived.counted(150)
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_patients_are_restored_with_the_collector_off_and_it_is_on_again_after() -> None:
    long_lived = LongLivedObjects()
    assert gc.isenabled()
    with long_lived.restoring():
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with long_lived.restoring():
            raise ValueError("a state this version cannot read")
    except ValueError:
        pass
    assert gc.isenabled(), "on again whatever the restore raised"
    gc.disable()
    try:
        with long_lived.restoring():
            pass
        assert not gc.isenabled(), "left as it was found"
    finally:
        gc.enable()
