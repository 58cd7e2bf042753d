"""A group member in its own process, driven by the SDK, for the reliability tests.

``python -m tests.reliability.group_worker drain URL TOPIC GROUP OUT`` fetches leases and
acks each whole lease until the group has nothing left, writing one line per delivery
(``offset delivery lease``) to OUT, each flushed before the lease is acked.

``... die-after-first URL TOPIC GROUP OUT`` runs ``process()`` and is killed with SIGKILL
(by itself) right after its handler has processed the first message of its first lease.
"""

import os
import signal
import sys

from logqueue_sdk import GroupConsumer, GroupMessage


def drain(consumer: GroupConsumer, out: "os.PathLike[str] | str") -> None:
    with open(out, "a", encoding="utf-8") as log:
        while True:
            lease = consumer.fetch(max_messages=1000, wait=0.5)
            if lease is None:
                if consumer.details().lag == 0:
                    return
                continue
            for message in lease.messages:
                log.write(f"{message.offset} {message.delivery} {lease.lease_id}\n")
            log.flush()
            lease.ack()


def die_after_first(consumer: GroupConsumer, out: str) -> None:
    def handler(message: GroupMessage) -> None:
        with open(out, "a", encoding="utf-8") as log:
            log.write(f"{message.offset} {message.delivery}\n")
        os.kill(os.getpid(), signal.SIGKILL)

    consumer.process(handler)


def main() -> None:
    mode, url, topic, group, out = sys.argv[1:6]
    with GroupConsumer(url, topic, group, max_messages=100, wait=1) as consumer:
        (drain if mode == "drain" else die_after_first)(consumer, out)


if __name__ == "__main__":
    main()
