"""``logqueue groups ...`` and ``logqueue consume --group``, run as real processes."""

from logqueue_sdk import GroupConsumer, Producer
from tests.sdk.helpers import create_topic
from tests.sdk.test_cli import run


def test_groups_commands_and_group_consume(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    with Producer(broker) as producer:
        assert producer.send_batch(topic, ["a", "b", "c"])

    created = run("groups", "create", topic, "g", "--ack-wait", "2", "--broker", broker)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("g: lag=3 pending=0 acked=0")
    assert "ack_wait=2.0s" in created.stdout

    consumed = run("consume", topic, "--group", "g", "--broker", broker)
    assert (consumed.returncode, consumed.stdout) == (0, "a\nb\nc\n"), consumed.stderr
    shown = run("groups", "show", topic, "g", "--broker", broker)
    assert shown.stdout.startswith("g: lag=0 pending=0 acked=3"), shown.stdout
    again = run("consume", topic, "--group", "g", "--broker", broker)
    assert (again.returncode, again.stdout) == (0, ""), "printed messages were not acked"

    sought = run("groups", "seek", topic, "g", "1", "--broker", broker)
    assert "lag=2" in sought.stdout and "next_offset=1" in sought.stdout, sought.stdout
    replay = run("consume", topic, "--group", "g", "--broker", broker)
    assert replay.stdout == "b\nc\n"

    listed = run("groups", "list", topic, "--broker", broker)
    assert [line.split(":")[0] for line in listed.stdout.splitlines()] == ["g"]
    bad = run("groups", "seek", topic, "g", "soon", "--broker", broker)
    assert bad.returncode == 2
    assert "'soon' is not 'earliest'" in bad.stderr
    deleted = run("groups", "delete", topic, "g", "--broker", broker)
    assert (deleted.returncode, deleted.stdout) == (0, "Group 'g' deleted\n")
    gone = run("groups", "show", topic, "g", "--broker", broker)
    assert (gone.returncode, gone.stderr) == (
        1,
        f"error: Group 'g' does not exist on topic '{topic}'\n",
    )
    with GroupConsumer(broker, topic, "g") as consumer:
        assert consumer.create().lag == 3
