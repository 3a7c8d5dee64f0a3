"""The contract (base), the registry, the token bucket, MemoryChannel and FileChannel."""

from __future__ import annotations

import json
import pickle
import sys
import threading
import tomllib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import channels
from channels import (
    Channel,
    ChannelConfigError,
    ChannelError,
    Message,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    load_channel_classes,
)
from channels.file import FileChannel
from channels.memory import MemoryChannel
from channels.ratelimit import TokenBucket
from channels.smtp_email import SmtpEmailChannel
from channels.twilio_sms import TwilioSmsChannel

REPO = Path(__file__).resolve().parents[2]
SMS = Message(channel="sms", address="+381641234567", kind="alert", text="NESTALO DETE", reference="d-1")


# --- base -------------------------------------------------------------------------------


def test_error_tree_and_retry_safety() -> None:
    assert issubclass(TemporaryFailure, ChannelError) and issubclass(PermanentFailure, ChannelError)
    assert TemporaryFailure("x").retry_safe is True
    assert PermanentFailure("x", code="ambiguous").retry_safe is False
    assert issubclass(ChannelConfigError, ValueError)
    error = pickle.loads(pickle.dumps(TemporaryFailure("later", code="http:429")))
    assert isinstance(error, TemporaryFailure) and error.code == "http:429" and str(error) == "later"


def test_message_and_receipt_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SMS.text = "changed"  # type: ignore[misc]
    assert Receipt("id").status == "sent"


def test_channels_does_not_import_the_app_or_its_frameworks() -> None:
    code = (
        "import sys, channels, channels.file, channels.memory, channels.smtp_email, "
        "channels.twilio_sms, channels.sms_text, channels.ratelimit\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlmodel', 'sqlalchemy', 'alertsvc', 'pydantic')]\n"
        "assert not bad, bad"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- registry -----------------------------------------------------------------------------


def declared_entry_points() -> dict[str, str]:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["entry-points"]["alertsvc.channels"]


EXPECTED = {"file": FileChannel, "memory": MemoryChannel, "email": SmtpEmailChannel, "sms": TwilioSmsChannel}


def test_load_channel_classes_from_given_entry_points() -> None:
    points = [
        EntryPoint(name=name, value=value, group=channels.ENTRY_POINT_GROUP)
        for name, value in declared_entry_points().items()
    ]
    assert load_channel_classes(points) == EXPECTED


def test_load_channel_classes_from_an_installed_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a real dist-info on sys.path, with the entry points pyproject.toml declares
    dist = tmp_path / "alertsvc_channels_probe-0.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: alertsvc-channels-probe\nVersion: 0.0.0\n")
    lines = [f"{name} = {value}" for name, value in declared_entry_points().items()]
    (dist / "entry_points.txt").write_text("[alertsvc.channels]\n" + "\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    classes = load_channel_classes()
    assert {name: classes[name] for name in EXPECTED} == EXPECTED


def test_conflicting_entry_points_are_an_error() -> None:
    group = channels.ENTRY_POINT_GROUP
    points = [
        EntryPoint("sms", "channels.twilio_sms:TwilioSmsChannel", group),
        EntryPoint("sms", "channels.memory:MemoryChannel", group),
    ]
    with pytest.raises(RuntimeError, match="declared twice"):
        load_channel_classes(points)


def test_every_channel_class_builds_from_options_and_fits_the_protocol(tmp_path: Path) -> None:
    sections = {
        "file": {"path": str(tmp_path / "out.jsonl")},
        "memory": {},
        "email": {"host": "127.0.0.1", "sender": "alerts@example.org", "port": "2525", "starttls": "false"},
        "sms": {
            "account_sid": "AC" + "0" * 32,
            "auth_token": "t",
            "from_number": "+15005550006",
            "max_per_second": "5",
        },
    }
    for name, cls in EXPECTED.items():
        channel = cls.from_options(sections[name])  # type: ignore[attr-defined]
        assert isinstance(channel, Channel)
        channel.close()


@pytest.mark.parametrize(
    ("cls", "options", "message"),
    [
        (FileChannel, {}, "path: is required"),
        (FileChannel, {"path": "x", "pth": "y"}, "unknown option"),
        (SmtpEmailChannel, {"host": "h", "sender": "s", "port": "smtp"}, "port: must be an integer"),
        (SmtpEmailChannel, {"host": "h", "sender": "s", "starttls": "maybe"}, "starttls: must be a boolean"),
        (TwilioSmsChannel, {"account_sid": "AC1", "auth_token": "t"}, "from_number or messaging_service_sid"),
        (
            TwilioSmsChannel,
            {"account_sid": "AC1", "auth_token": "t", "from_number": "+1", "max_per_second": 0},
            "max_per_second: must be greater than 0",
        ),
    ],
)
def test_bad_options_raise_config_errors(cls: type, options: dict[str, object], message: str) -> None:
    with pytest.raises(ChannelConfigError, match=message):
        cls.from_options(options)


def test_sections_shaped_like_config_example_toml_are_accepted(tmp_path: Path) -> None:
    # the keys of config.example.toml's [channels.*] sections, as the app's Settings dump them
    file = FileChannel.from_options({"enabled": True, "path": str(tmp_path / "o.jsonl")})
    email = SmtpEmailChannel.from_options(
        {
            "enabled": False, "host": "127.0.0.1", "port": 25, "sender": "alerts@example.org",
            "starttls": False, "username": "", "password": "", "timeout_seconds": 10.0,
            "max_per_second": 20.0,
        }
    )  # fmt: skip
    sms = TwilioSmsChannel.from_options(
        {
            "enabled": False, "account_sid": "AC" + "0" * 32, "auth_token": "t",
            "from_number": "", "messaging_service_sid": "MG" + "0" * 32,
            "api_base": "https://api.twilio.com", "max_per_second": 10.0,
        }
    )  # fmt: skip
    assert email.timeout == 10.0 and email.username is None
    assert sms.messaging_service_sid and sms.from_number is None
    for channel in (file, email, sms):
        channel.close()


def test_secret_values_are_unwrapped() -> None:
    class Secret:  # the shape of pydantic's SecretStr
        def get_secret_value(self) -> str:
            return "s3cret"

    channel = SmtpEmailChannel.from_options(
        {"host": "h", "sender": "a@b.c", "username": "u", "password": Secret()}
    )
    assert channel._password == "s3cret"


# --- token bucket ----------------------------------------------------------------------------


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


def test_bucket_allows_a_burst_then_spaces_out() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    # 3 at once, then each further one queues half a second behind the previous
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]
    assert clock.slept == [0.5, 1.0, 1.5]


def test_bucket_refills_with_time_up_to_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock, sleep=clock.sleep)
    assert [bucket.try_acquire() for _ in range(11)] == [True] * 10 + [False]
    clock.now += 0.25  # 2.5 tokens back
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]
    clock.now += 1000
    assert sum(bucket.try_acquire() for _ in range(20)) == 10  # never more than burst


def test_bucket_is_thread_safe() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=50, clock=clock, sleep=clock.sleep)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: bucket.try_acquire(), range(400)))
    assert sum(results) == 50
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = sorted(pool.map(lambda _: bucket.acquire(), range(20)))
    # each of the 20 queued callers got its own slot: 1 s, 2 s, ... 20 s
    assert waits == [float(n) for n in range(1, 21)]


@pytest.mark.parametrize(("rate", "burst"), [(0, None), (-1, None), (1, 0.5)])
def test_bucket_rejects_bad_sizes(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


# --- MemoryChannel ------------------------------------------------------------------------


def test_memory_channel_records_and_can_fail_next_sends() -> None:
    channel = MemoryChannel(name="sms")
    assert channel.send(SMS) == Receipt("memory:1")
    channel.fail_next(2, TemporaryFailure("provider down", code="http:503"))
    for _ in range(2):
        with pytest.raises(TemporaryFailure) as info:
            channel.send(SMS)
        assert info.value.code == "http:503"
    assert channel.send(SMS) == Receipt("memory:2")
    assert channel.sent == [SMS, SMS]
    channel.clear()
    assert channel.sent == []


def test_memory_channel_is_thread_safe() -> None:
    channel = MemoryChannel()
    channel.fail_next(30, PermanentFailure("nope"))
    messages = [Message("sms", f"+3816{i:08d}", "alert", f"t{i}") for i in range(300)]

    def send(message: Message) -> str:
        try:
            return channel.send(message).provider_id or ""
        except PermanentFailure:
            return "failed"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, messages))
    assert results.count("failed") == 30
    ids = [r for r in results if r != "failed"]
    assert sorted(ids) == sorted(f"memory:{n}" for n in range(1, 271))
    assert len(channel.sent) == 270


# --- FileChannel --------------------------------------------------------------------------


def test_file_channel_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "outbox.jsonl"
    channel = FileChannel(path)
    email = Message(
        "email", "ana@example.rs", "alert", "Нестала девојчица", subject="Узбуна",
        unsubscribe_url="https://a.example/unsubscribe/t", reference="d-7",
    )  # fmt: skip
    assert channel.send(email) == Receipt("file:d-7")
    receipt = channel.send(Message("sms", "+381641234567", "confirmation", "Kod: 123456"))
    assert receipt.provider_id is not None and receipt.provider_id.startswith("file:")
    raw = path.read_bytes().decode("utf-8")
    assert "Нестала девојчица" in raw  # ensure_ascii=False
    first, second = (json.loads(line) for line in raw.splitlines())
    assert first == {
        "channel": "email", "address": "ana@example.rs", "kind": "alert", "subject": "Узбуна",
        "text": "Нестала девојчица", "unsubscribe_url": "https://a.example/unsubscribe/t",
        "reference": "d-7",
    }  # fmt: skip
    assert second == {
        "channel": "sms", "address": "+381641234567", "kind": "confirmation", "subject": None,
        "text": "Kod: 123456",
    }  # fmt: skip


def test_file_channel_unwritable_path_is_a_temporary_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(TemporaryFailure) as info:
        FileChannel(blocker / "outbox.jsonl").send(SMS)
    assert info.value.code == "file"


def _write_many(path: str, worker: int, count: int) -> None:
    channel = FileChannel(path)
    for i in range(count):
        channel.send(Message("sms", "+381600000000", "alert", f"{worker}-{i}-" + "ж" * 40_000))


def test_file_channel_lines_never_interleave_across_threads_and_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "outbox.jsonl")
    with ProcessPoolExecutor(max_workers=3) as processes, ThreadPoolExecutor(max_workers=3) as threads:
        jobs = [processes.submit(_write_many, path, w, 15) for w in range(3)]
        jobs += [threads.submit(_write_many, path, w, 15) for w in range(3, 6)]
        for job in jobs:
            job.result()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 90
    texts = {json.loads(line)["text"].split("-ж")[0] for line in lines}  # every line parses
    assert texts == {f"{w}-{i}" for w in range(6) for i in range(15)}
