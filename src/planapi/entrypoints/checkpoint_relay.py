"""Checkpoints on the relay: each newly signed checkpoint of either log goes to JetStream as the
signed note itself, on `<prefix>.checkpoint.<log>`, so copies live outside the database.

The message id is `checkpoint:<log>:<tree size>`: a checkpoint published again (a relay that
restarted) is dropped by JetStream as a duplicate within its window, and one seen after the
window is harmless — the same signed bytes. Subjects of events start with their stream id
(`plan.…`), so the two never mix.
"""

from __future__ import annotations

from nats.js import JetStreamContext

from planapi.application.ports import MerkleTree
from planapi.application.transparency import LOGS

PUBLISH_TIMEOUT = 5.0


class CheckpointRelay:
    def __init__(self, tree: MerkleTree, js: JetStreamContext, prefix: str, stream: str) -> None:
        self.tree = tree
        self.js = js
        self.prefix = prefix
        self.stream = stream
        self.sent: dict[str, int] = {}  # the tree size last published, per log

    async def publish_new(self) -> int:
        """Publishes each log's latest checkpoint if it is newer than the last one sent."""
        published = 0
        for log in LOGS:
            latest = await self.tree.latest_checkpoint(log)
            if latest is None or self.sent.get(log) == latest[0].tree_size:
                continue
            checkpoint = latest[0]
            headers = {
                "Nats-Msg-Id": f"checkpoint:{log}:{checkpoint.tree_size}",
                "Planapi-Tree-Size": str(checkpoint.tree_size),
            }
            await self.js.publish(
                f"{self.prefix}.checkpoint.{log}",
                checkpoint.note.encode(),
                timeout=PUBLISH_TIMEOUT,
                stream=self.stream,
                headers=headers,
            )
            self.sent[log] = checkpoint.tree_size
            published += 1
        return published
