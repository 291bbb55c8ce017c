"""What the application needs from the outside world, stated as Protocols.

The core of the log — `EventStore` and `SnapshotStore` — is kept narrow enough for a backend
without SQL: `adapters/memory.py` implements both, passes the same contract tests as SQLite and
PostgreSQL (tests/contract, marked `ports_and_memory`) and serves fast application tests.
Later features (search, Merkle storage, readings) may keep their own ports database-only; they
need not be implemented in memory.

One module per concern; every port is importable from here.
"""

from planapi.application.ports.access import (
    BearerVerifier as BearerVerifier,
)
from planapi.application.ports.access import (
    TokenStore as TokenStore,
)
from planapi.application.ports.feeds import (
    EventLog as EventLog,
)
from planapi.application.ports.feeds import (
    Notifier as Notifier,
)
from planapi.application.ports.feeds import (
    NotifierClosedError as NotifierClosedError,
)
from planapi.application.ports.feeds import (
    ReadingLog as ReadingLog,
)
from planapi.application.ports.feeds import (
    RecordedBatch as RecordedBatch,
)
from planapi.application.ports.feeds import (
    StoredEvent as StoredEvent,
)
from planapi.application.ports.feeds import (
    Wakeups as Wakeups,
)
from planapi.application.ports.heads import (
    HeadChanges as HeadChanges,
)
from planapi.application.ports.heads import (
    HeadsLog as HeadsLog,
)
from planapi.application.ports.heads import (
    HeadsSource as HeadsSource,
)
from planapi.application.ports.log import (
    ChainBreak as ChainBreak,
)
from planapi.application.ports.log import (
    Clock as Clock,
)
from planapi.application.ports.log import (
    CommandKey as CommandKey,
)
from planapi.application.ports.log import (
    EventStore as EventStore,
)
from planapi.application.ports.log import (
    Finding as Finding,
)
from planapi.application.ports.log import (
    IntegrityReport as IntegrityReport,
)
from planapi.application.ports.log import (
    Recorded as Recorded,
)
from planapi.application.ports.log import (
    SnapshotStore as SnapshotStore,
)
from planapi.application.ports.log import (
    index_findings as index_findings,
)
from planapi.application.ports.merkle import (
    MerkleTree as MerkleTree,
)
from planapi.application.ports.merkle import (
    Recomputation as Recomputation,
)
from planapi.application.ports.readings import (
    BatchOutcome as BatchOutcome,
)
from planapi.application.ports.readings import (
    CurrentValue as CurrentValue,
)
from planapi.application.ports.readings import (
    ExecutionStore as ExecutionStore,
)
from planapi.application.ports.readings import (
    ReadingsIntegrity as ReadingsIntegrity,
)
from planapi.application.ports.readings import (
    ReadingStore as ReadingStore,
)
from planapi.application.ports.readings import (
    TotalSeriesSource as TotalSeriesSource,
)
from planapi.application.ports.search import (
    SearchIndex as SearchIndex,
)
from planapi.application.ports.search import (
    SearchText as SearchText,
)
