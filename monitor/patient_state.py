"""Everything the engine remembers about one patient, and its byte form for the worker's table.

Format 3: one version byte, then, deflated (zlib, level 1), a 4-byte length, a JSON header of
the small fields and the window's buffers (monitor/window.py, layout 2). Times are float seconds
since the epoch, None when absent (JSON has no infinity).

Why compact: the worker writes a patient charted hourly on nearly every record (each is an
hour of event time past the last write), so the snapshot's size is the changelog's cost per
record. Format 2 wrote the ring's whole day (1,440 minutes × 7 codes) for 24 minutes of data
and a JSON header that repeats the same timestamps: ≈ 14.7 KB per record over the development
stays, now ≈ 0.5 KB (bench/backlog.py). Level 1, because a higher level saved ≈ 5-10 % more
for twice the time, on the worker's path of every hourly record.

Format 2 (uncompressed, the ring's span dense) and format 1 (the foundation's minimal engine)
are still read, so a table written by an earlier worker restores after an upgrade; anything
else is refused with a ValueError, which the worker answers by starting the patient afresh.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field

import orjson

from monitor.deterioration.alerting import AlertState
from monitor.deterioration.news2_floor import Floors
from monitor.episodes import Episode
from monitor.kidney import KidneyStage
from monitor.labs import LabHistory
from monitor.neuro import NeuroState
from monitor.parameters import COUNT
from monitor.trends import NONE, EarlyWarning
from monitor.window import Window, WindowLimits
from monitor.wire import parse_timestamp

FORMAT_VERSION = 3
_COMPRESSION_LEVEL = 1
#: Format 3 is deflated against this preset dictionary: a charted patient's state is ≈ 2 KB
#: before deflating, too little for deflate to learn the JSON header's names from the state
#: itself, and with them it is ≈ 0.5 KB instead of ≈ 0.85 KB (over the development stays).
#: NEVER CHANGE IT: format 3's bytes read back only with these very bytes. A better one is a
#: new format version (the dictionary is only a hint: any header still deflates against it).
_DICTIONARY = (
    b'{"patient_id":"","ward":null,"bed":null,"clock":,"value":[,"value_at":[,"newest_at":[,'
    b'"held":[null,null,null,null,null,null,null],"held_at":[null,null,null,null,null,null,null],'
    b'"consciousness":null,"consciousness_at":null,"monitor_oxygen":null,"monitor_oxygen_at":null,'
    b'"signal_at":[,"streak":[1,1,1,1,1,1,1],"continuous":[false,false,false,false,false,false,false],'
    b'"lost":[false,false,false,false,false,false,false],"device":null,"flow_l_min":null,'
    b'"device_at":null,"vasopressors":0,"vasopressin":false,"vasopressor_at":null,"scale":1,'
    b'"scale_at":null,"therapy_at":null,"fever_at":null,"fever_lift_until":null,'
    b'"fever_lifted_by":null,"baseline":null,"trend_at":null,"last_status_at":,"artifacts":0,'
    b'"gaps":0,"early_warning":[],"deterioration":[false,0,false,0,"deterioration_reasons":['
    b'"deterioration score ","temperature  \xc2\xb0C, highest  \xc2\xb0C in the last 12 h [+",'
    b'"heart rate highest /min in the last 12 h [+","respiratory rate ","systolic blood pressure ",'
    b'"news2_floor":null,"deterioration_due":,"last_status_key":["low",false,0,false,false,false,'
    b'false,false,false],"episodes":{"crs":[null,"",null,0,null,null,null,null,null,null],'
    b'"news2":[null,"",null,0,null,null,null,null,null,null],'
    b'"signal_loss":[null,"",null,0,null,null,null,null,null,null],'
    b'"deterioration":[null,"",null,0,null,null,null,null,null,null]}}'
)
_LENGTH = struct.Struct("<I")
#: The rules whose episodes every snapshot holds, open or not: those of format 3's first
#: writers. A rule registered later writes its episode only when it is not idle, so adding a
#: rule leaves the bytes of every patient it has never concerned as they were (restored, an
#: absent episode is a fresh one).
_ALWAYS_WRITTEN = frozenset({"crs", "news2", "signal_loss", "deterioration"})


def _nones() -> list:
    return [None] * COUNT


def _rules() -> tuple[str, ...]:
    """The registered rules' names (imported here, not above: the rules read this module)."""
    from monitor.rules.registry import RULES

    return RULES


def _episodes() -> dict[str, Episode]:
    return {rule: Episode() for rule in _rules()}


@dataclass(slots=True, eq=False)
class Patient:
    """One patient's state. Per-measurement lists are indexed by monitor.parameters positions."""

    patient_id: str
    window: Window
    ward: str | None = None
    bed: str | None = None
    clock: float | None = None  # the latest time the patient was evaluated at

    # accepted values, carried forward, and the sample that is waiting for confirmation
    value: list = field(default_factory=_nones)
    value_at: list = field(default_factory=_nones)
    newest_at: list = field(default_factory=_nones)  # newest sample per measurement, held or not
    held: list = field(default_factory=_nones)
    held_at: list = field(default_factory=_nones)
    consciousness: str | None = None
    consciousness_at: float | None = None
    monitor_oxygen: bool | None = None  # the vital sign's own on_oxygen flag
    monitor_oxygen_at: float | None = None

    # signal continuity, for signal loss
    signal_at: list = field(default_factory=_nones)  # newest non-zero sample per measurement
    streak: list = field(default_factory=lambda: [0] * COUNT)
    continuous: list = field(default_factory=lambda: [False] * COUNT)
    lost: list = field(default_factory=lambda: [False] * COUNT)

    # clinical events in force
    device: str | None = None
    flow_l_min: float | None = None
    device_at: float | None = None
    vasopressors: int = 0
    vasopressin: bool = False
    vasopressor_at: float | None = None
    scale: int = 1
    scale_at: float | None = None
    therapy_at: float | None = None
    fever_at: float | None = None  # first fever of the current risk period
    fever_lift_until: float | None = None
    fever_lifted_by: str | None = None
    # the first tocilizumab of the current risk period: IL-6 rises after it (monitor/organs/
    # inflammation.py); stored only when set, so other patients' bytes are unchanged
    tocilizumab_at: float | None = None

    # trend and baseline of the current CRS episode
    baseline: list | None = None
    trend_at: float | None = None
    early_warning: EarlyWarning = NONE

    # the hourly deterioration warning (monitor/deterioration): its machines, and the
    # reasons of its last evaluation
    deterioration: AlertState | None = None
    deterioration_reasons: tuple = ()
    # NEWS2's confirmed floors under the warning (monitor/deterioration/news2_floor.py),
    # None while nothing is pending or held
    news2_floor: Floors | None = None

    # lab results (monitor/labs.py), None until the first
    labs: LabHistory | None = None
    # the neurological assessment in force and the best ICE (monitor/neuro.py), None until the first
    neuro: NeuroState | None = None

    episodes: dict[str, Episode] = field(default_factory=_episodes)  # one per registered rule
    last_status_at: float | None = None
    last_status_key: tuple | None = None
    artifacts: int = 0
    gaps: int = 0

    # derived, never stored (recomputed on restore): lower bounds of the next time a value
    # expires or a held sample is believed, of the next signal loss, and the timer's entry
    # (except deterioration_due, stored with the header)
    expiry_due: float = -math.inf
    loss_due: float = -math.inf
    scheduled: float = math.inf
    deterioration_due: float = math.inf  # when the next hour is scored (rule on; stored)
    status_parts: tuple = ()  # the last status's unchanging parts, reused (monitor/reports.py)
    # the KDIGO stage of the latest creatinine (monitor/kidney.py): a function of `labs`, set
    # when a creatinine result arrives and on restore, so that a step reads it for free
    kidney: KidneyStage | None = None
    lab_parts: tuple = ()  # the last status's labs and risk with what they were read from (reports.py)

    # -- bytes ---------------------------------------------------------------------------
    _STORED = (
        "patient_id",
        "ward",
        "bed",
        "clock",
        "value",
        "value_at",
        "newest_at",
        "held",
        "held_at",
        "consciousness",
        "consciousness_at",
        "monitor_oxygen",
        "monitor_oxygen_at",
        "signal_at",
        "streak",
        "continuous",
        "lost",
        "device",
        "flow_l_min",
        "device_at",
        "vasopressors",
        "vasopressin",
        "vasopressor_at",
        "scale",
        "scale_at",
        "therapy_at",
        "fever_at",
        "fever_lift_until",
        "fever_lifted_by",
        "baseline",
        "trend_at",
        "last_status_at",
        "artifacts",
        "gaps",
    )

    def to_bytes(self) -> bytes:
        header = {name: getattr(self, name) for name in self._STORED}
        header["early_warning"] = list(self.early_warning)
        header["deterioration"] = None if self.deterioration is None else self.deterioration.as_list()
        header["deterioration_reasons"] = list(self.deterioration_reasons)
        header["news2_floor"] = None if self.news2_floor is None else self.news2_floor.as_list()
        due = self.deterioration_due
        header["deterioration_due"] = None if due == math.inf else due
        header["last_status_key"] = self.last_status_key
        header["episodes"] = {
            rule: episode.as_list()
            for rule, episode in self.episodes.items()
            if rule in _ALWAYS_WRITTEN or not episode.idle
        }
        if self.labs is not None:  # absent otherwise: a patient without labs keeps its bytes
            header["labs"] = self.labs.as_list()
        if self.neuro is not None:  # likewise for a patient never assessed
            header["neuro"] = self.neuro.as_list()
        if self.tocilizumab_at is not None:  # likewise
            header["tocilizumab_at"] = self.tocilizumab_at
        body = orjson.dumps(header)
        deflate = zlib.compressobj(_COMPRESSION_LEVEL, zdict=_DICTIONARY)
        deflated = deflate.compress(_LENGTH.pack(len(body)) + body + self.window.to_bytes())
        return bytes([FORMAT_VERSION]) + deflated + deflate.flush()

    @classmethod
    def from_bytes(cls, data: bytes, limits: WindowLimits) -> "Patient":
        if not data:
            raise ValueError("empty patient state")
        version = data[0]
        if version == 1:
            return cls._from_format_1(data, limits)
        if version == FORMAT_VERSION:
            inflate = zlib.decompressobj(zdict=_DICTIONARY)
            try:
                body = inflate.decompress(memoryview(data)[1:])
            except zlib.error as error:
                raise ValueError(f"patient state is damaged: {error}") from None
            if not inflate.eof or inflate.unused_data:
                raise ValueError("patient state is truncated or too long (deflated)")
            return cls._from_body(body, limits, window_layout=2)
        if version == 2:
            return cls._from_body(memoryview(data)[1:], limits, window_layout=1)
        raise ValueError(f"unknown patient state format {version} (this version reads 1, 2 and 3)")

    @classmethod
    def _from_body(cls, body: bytes | memoryview, limits: WindowLimits, window_layout: int) -> "Patient":
        """Formats 2 and 3 after their version byte (deflated, in 3): the header's length, the
        header, the window."""
        try:
            (length,) = _LENGTH.unpack_from(body, 0)
            header = orjson.loads(body[4 : 4 + length])
            window = Window.from_bytes(memoryview(body)[4 + length :], limits, window_layout)
            patient = cls(header["patient_id"], window)
            for name in cls._STORED:
                setattr(patient, name, header[name])
            patient.early_warning = tuple(header["early_warning"])
            machines = header.get("deterioration")  # absent before issue 8
            patient.deterioration = AlertState.from_list(machines) if machines else None
            patient.deterioration_reasons = tuple(header.get("deterioration_reasons", ()))
            floors = header.get("news2_floor")  # absent before the floor
            patient.news2_floor = Floors.from_list(floors) if floors else None
            # The next hourly evaluation: kept, because an hour that has data but was not yet
            # scored cannot be told from the rest afterwards; NaN (absent, an older snapshot)
            # asks the engine to derive it as it used to.
            due = header.get("deterioration_due", math.nan)
            patient.deterioration_due = math.inf if due is None else due
            key = header["last_status_key"]
            patient.last_status_key = None if key is None else _freeze(key)
            stored = {rule: Episode.from_list(items) for rule, items in header["episodes"].items()}
            # The registration order, whichever episodes the bytes held (a later rule's idle
            # episode is not written); then any a newer version wrote, as they came.
            patient.episodes = {rule: stored.pop(rule) if rule in stored else Episode() for rule in _rules()}
            patient.episodes.update(stored)
            labs = header.get("labs")  # absent before labs, and for a patient without any
            patient.labs = None if labs is None else LabHistory.from_list(labs)
            neuro = header.get("neuro")  # absent before ICANS, and for a patient never assessed
            patient.neuro = None if neuro is None else NeuroState.from_list(neuro)
            patient.tocilizumab_at = header.get("tocilizumab_at")  # absent unless given
        except (struct.error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"patient state is damaged: {error}") from None
        return patient

    @classmethod
    def _from_format_1(cls, data: bytes, limits: WindowLimits) -> "Patient":
        """The minimal engine's state: identity, therapy and its CRS episode. Its latest values
        carried no times, so they are left for the next vital signs to bring."""
        try:
            body = orjson.loads(data[1:])
            patient = cls(body["patient_id"], Window(limits), body["ward"], body["bed"])
            if body["therapy_at"]:
                patient.therapy_at = parse_timestamp(body["therapy_at"]).timestamp()
            if body["episode"]:
                episode_id, severity, changes, acknowledged_by = body["episode"]
                patient.episodes["crs"] = Episode(episode_id, severity, 1, changes, acknowledged_by)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"patient state (format 1) is damaged: {error}") from None
        return patient


def _freeze(item):
    """JSON gives lists back; the status key compares as the tuple it was."""
    return tuple(_freeze(part) for part in item) if isinstance(item, list) else item
