"""Drives the test server with the DataStax Python driver (Debian's
python3-cassandra), an implementation of the protocol independent of
gocql. Prints one JSON object: the protocol version negotiated and what
each step read back. Usage: python_driver.py HOST PORT"""
import json
import logging
import sys

from cassandra import ConsistencyLevel, InvalidRequest
from cassandra.cluster import Cluster
from cassandra.query import BatchStatement, BatchType

logging.basicConfig(level=logging.ERROR)
host, port = sys.argv[1], int(sys.argv[2])

# No protocol_version: the driver starts above v4 and must downgrade.
cluster = Cluster([host], port=port, connect_timeout=10, control_connection_timeout=10)
session = cluster.connect()
out = {"protocol_version": cluster.protocol_version}

session.execute("CREATE KEYSPACE py WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
session.execute("USE py")
session.execute("CREATE TABLE events (day text, seq int, name text, tags list<text>, amount double, "
                "PRIMARY KEY ((day), seq))")

insert = session.prepare("INSERT INTO events (day, seq, name, tags, amount) VALUES (?, ?, ?, ?, ?)")
insert.consistency_level = ConsistencyLevel.LOCAL_QUORUM
out["routing_key_indexes"] = insert.routing_key_indexes
session.execute(insert, ("mon", 1, "ann", ["a", "b"], 1.5))

batch = BatchStatement(batch_type=BatchType.UNLOGGED)
batch.add(insert, ("mon", 2, "bob", [], 2.5))
batch.add(insert, ("mon", 3, "cy", None, None))
batch.add("DELETE FROM events WHERE day = %s AND seq = %s", ("mon", 1))
session.execute(batch)

select = session.prepare("SELECT seq, name, tags, amount FROM events WHERE day = ?")
out["rows"] = [[r.seq, r.name, r.tags, r.amount] for r in session.execute(select, ("mon",))]

# The driver's schema metadata, read from system_schema.
table = cluster.metadata.keyspaces["py"].tables["events"]
out["partition_key"] = [c.name for c in table.partition_key]
out["clustering_key"] = [c.name for c in table.clustering_key]
out["column_types"] = {name: c.cql_type for name, c in table.columns.items()}

try:
    session.execute("SELECT * FROM nope")
    out["unknown_table"] = "no error"
except InvalidRequest as e:
    out["unknown_table"] = "InvalidRequest"

cluster.shutdown()
print(json.dumps(out, sort_keys=True))
