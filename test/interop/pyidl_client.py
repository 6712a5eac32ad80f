"""Drives the Open vSwitch Python IDL (python3-openvswitch) against a server.

Usage: pyidl_client.py unix:SOCK SCHEMA

Connects, waits for the monitor's initial contents, commits one transaction
(an external_ids key on Bridge br0 and a new Bridge "pybr" added to
Open_vSwitch.bridges), then waits until its own replica shows the change.
Prints one JSON object per phase on stdout, so the test can compare the
runs against two servers. Exits non-zero on failure or after 15 s.
"""

import json
import sys
import time

import ovs.db.idl
import ovs.poller


def run_until(idl, done, deadline):
    while not done():
        if time.time() > deadline:
            raise SystemExit("timed out waiting; last seqno %d" % idl.change_seqno)
        idl.run()
        if done():
            break
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(100)
        poller.block()


def snapshot(idl):
    bridges = sorted(
        (
            {"name": b.name, "external_ids": dict(sorted(b.external_ids.items()))}
            for b in idl.tables["Bridge"].rows.values()
        ),
        key=lambda b: b["name"],
    )
    ovs_rows = list(idl.tables["Open_vSwitch"].rows.values())
    return {
        "open_vswitch_rows": len(ovs_rows),
        "bridges_in_root": sorted(b.name for r in ovs_rows for b in r.bridges),
        "bridges": bridges,
    }


def main():
    remote, schema_path = sys.argv[1], sys.argv[2]
    deadline = time.time() + 15
    helper = ovs.db.idl.SchemaHelper(location=schema_path)
    helper.register_all()
    idl = ovs.db.idl.Idl(remote, helper)

    start = idl.change_seqno
    run_until(idl, lambda: idl.change_seqno != start and idl.has_ever_connected(), deadline)
    print(json.dumps({"phase": "initial", **snapshot(idl)}), flush=True)

    root = next(iter(idl.tables["Open_vSwitch"].rows.values()))
    br0 = next(b for b in idl.tables["Bridge"].rows.values() if b.name == "br0")
    txn = ovs.db.idl.Transaction(idl)
    txn.add_comment("pyidl interop test")
    br0.verify("external_ids")
    ids = dict(br0.external_ids)
    ids["pyidl"] = "yes"
    br0.external_ids = ids
    new = txn.insert(idl.tables["Bridge"])
    new.name = "pybr"
    new.fail_mode = "secure"
    root.verify("bridges")
    root.bridges = list(root.bridges) + [new]
    status = txn.commit_block()
    print(json.dumps({"phase": "commit", "status": ovs.db.idl.Transaction.status_to_string(status),
                      "error": txn.get_error() if status != ovs.db.idl.Transaction.SUCCESS else None}), flush=True)
    if status != ovs.db.idl.Transaction.SUCCESS:
        raise SystemExit(1)

    def sees_change():
        names = {b.name: b for b in idl.tables["Bridge"].rows.values()}
        return "pybr" in names and names["br0"].external_ids.get("pyidl") == "yes"

    run_until(idl, sees_change, deadline)
    print(json.dumps({"phase": "after", **snapshot(idl)}), flush=True)
    idl.close()


if __name__ == "__main__":
    main()
