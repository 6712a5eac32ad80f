// The --help text. Command synopses and option names are interface facts
// shared with ovs-vsctl (scripts and people type them); the descriptions are
// tsw's own.

export function usageText(prog: string, defaultDb: string, logDir: string): string {
  return `${prog}: configure a tsw (Open vSwitch compatible) switch through its database
usage: ${prog} [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...

Several commands may be chained with "--"; they run as one transaction, so
either all of their changes are made or none. Options given right before a
command (such as --may-exist) apply to that command only.

General:
  init                        create the root Open_vSwitch record if there is none
  show                        overview: bridges, ports, interfaces, controllers, managers
  emer-reset                  drop controllers, managers, mirrors, monitoring and most
                              other_config, leaving plain bridges and ports

Bridges:
  add-br BRIDGE               new bridge with a local internal port of the same name
  add-br BRIDGE PARENT VLAN   new VLAN ("fake") bridge carried on PARENT with tag VLAN
  del-br BRIDGE               remove BRIDGE with everything on it (--if-exists)
  list-br                     bridge names, one a line (--real or --fake to filter)
  br-exists BRIDGE            exit status 0 if BRIDGE exists, 2 if not
  br-to-vlan BRIDGE           VLAN of a fake bridge (0 for a real one)
  br-to-parent BRIDGE         real bridge behind BRIDGE (itself if it is real)
  br-set-external-id BRIDGE KEY VALUE  store KEY=VALUE in BRIDGE's external_ids
  br-set-external-id BRIDGE KEY  remove KEY from BRIDGE's external_ids
  br-get-external-id BRIDGE KEY  value stored under KEY, if any
  br-get-external-id BRIDGE  every KEY=VALUE stored on BRIDGE

Ports (a bond counts as one port):
  list-ports BRIDGE           ports of BRIDGE, without its local port
  add-port BRIDGE PORT        attach device PORT to BRIDGE; COL=VALUE arguments after
                              PORT set Port columns (--may-exist)
  add-bond BRIDGE PORT IFACE...  bonded PORT made of two or more IFACEs
                              (--may-exist, --fake-iface)
  add-bond-iface BOND IFACE   add interface IFACE to bond BOND (--may-exist)
  del-bond-iface [BOND] IFACE  take IFACE out of its bond (--if-exists)
  del-port [BRIDGE] PORT      detach PORT, bonded or not (--if-exists, --with-iface)
  port-to-br PORT             bridge PORT is on

Interfaces (a bond has several):
  list-ifaces BRIDGE          interfaces on BRIDGE's ports, without its local one
  iface-to-br IFACE           bridge IFACE is on

OpenFlow controllers and fail mode:
  get-controller BRIDGE      controller targets of BRIDGE
  del-controller BRIDGE      forget BRIDGE's controllers
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  replace BRIDGE's controllers with TARGETs
  get-fail-mode BRIDGE       "standalone", "secure" or nothing if unset
  del-fail-mode BRIDGE       unset BRIDGE's fail mode
  set-fail-mode BRIDGE MODE  MODE is "standalone" or "secure"

OVSDB managers:
  get-manager                manager targets
  del-manager                forget all managers
  [--inactivity-probe=MSECS]
  set-manager TARGET...      replace the managers with TARGETs

SSL:
  get-ssl                     show the key, certificate and CA certificate in use
  del-ssl                     remove the SSL settings
  set-ssl PRIV-KEY CERT CA-CERT  use these files (--bootstrap: get CA-CERT from the peer)

Auto Attach (I-SID to VLAN mappings):
  add-aa-mapping BRIDGE I-SID VLAN   map I-SID to VLAN on BRIDGE
  del-aa-mapping BRIDGE I-SID VLAN   remove that mapping (and any other sharing its
                                     I-SID or VLAN)
  get-aa-mapping BRIDGE              "I-SID VLAN" per mapping

Datapaths (named by their key in Open_vSwitch's datapaths column):
  add-zone-tp DATAPATH zone=ZONE_ID KEY=SECONDS...  conntrack timeouts for zone
                              ZONE_ID, e.g. tcp_established=300 (--may-exist)
  del-zone-tp DATAPATH zone=ZONE_ID  drop the zone's timeout policy (--if-exists)
  list-zone-tp DATAPATH       each zone with its timeouts
  list-dp-cap DATAPATH        the datapath's reported capabilities as KEY=VALUE

Generic database commands (TBL, COL may be abbreviated when unambiguous):
  list TBL [REC]              print REC, or every record of TBL (--columns=COL,...)
  find TBL CONDITION...       print the records of TBL matching every CONDITION
  get TBL REC COL[:KEY]       print a column, or one key of a map column
  set TBL REC COL[:KEY]=VALUE store VALUE in a column (or under KEY)
  add TBL REC COL [KEY=]VALUE add members to a set or map column
  remove TBL REC COL [KEY=]VALUE  take members out of a set or map column
  clear TBL REC COL           empty a set or map column
  create TBL COL[:KEY]=VALUE  insert a record (--id=@NAME to refer to it later)
  destroy TBL REC             delete REC (--all: every record of TBL)
  wait-until TBL REC [COL[:KEY]=VALUE]  block until REC exists and matches
  comment [ARG]...            no effect; shows up in the database log
Records (REC) are named by UUID, or a unique UUID prefix of 4+ digits, or:
  Open_vSwitch, SSL                            "." (the single record)
  Bridge, Port, Interface, Mirror, Flow_Table  its "name"
  Manager                                      its "target"
  Flow_Sample_Collector_Set                    its "id"
  Controller, NetFlow, sFlow, IPFIX, AutoAttach  name of the Bridge using it
  QoS                                          name of the Port using it
Other tables (Queue, Datapath, CT_Zone, CT_Timeout_Policy) take UUIDs only.

Options:
  --db=DATABASE               database to use (default: ${defaultDb})
  --no-wait                   return once the database is updated, without waiting
                              for the switch to apply the change
  --retry                     if the database is unreachable, keep trying
  -t, --timeout=SECS          give up after SECS seconds
  --dry-run                   run the commands but abort the transaction
  --oneline                   each command's output on one line, newlines as \\n

Output format (for list and find):
  -f, --format=FORMAT         "list" (default), "table", "html", "csv" or "json"
  -d, --data=FORMAT           cell contents as "string" (default), "bare" or "json"
  --no-headings               leave out column headings
  --pretty                    indent JSON output
  --bare                      short for --format=list --data=bare --no-headings
  --max-column-width=N        truncate table cells to N characters

Logging:
  -vSPEC, --verbose=SPEC      set log levels, e.g. -vvsctl:console:dbg
  -v, --verbose               log everything
  --log-file[=FILE]           also log to FILE (default: ${logDir}/${prog}.log)
  --syslog-method=(libc|unix:file|udp:ip:port)  how to reach syslog
  --syslog-target=HOST:PORT   copy syslog messages to HOST:PORT over UDP
  --no-syslog                 same as --verbose=vsctl:syslog:warn

Database addresses (--db):
  tcp:HOST:PORT           connect over TCP
  ssl:HOST:PORT           connect over SSL
  unix:FILE               connect to a Unix socket
  ptcp:PORT[:IP]          wait for the server to connect, over TCP
  pssl:PORT[:IP]          the same over SSL
  punix:FILE              the same on a Unix socket
SSL keys and certificates (needed for ssl: and pssl:):
  -p, --private-key=FILE  our private key
  -c, --certificate=FILE  our certificate
  -C, --ca-cert=FILE      CA certificate to check the peer against
  --bootstrap-ca-cert=FILE  as --ca-cert, but fetched from the peer on first use
  --ssl-protocols=PROTOS  SSL/TLS protocol versions to allow
  --ssl-ciphers=CIPHERS   cipher list to allow

Other options:
  -h, --help                  this text
  -V, --version               version of ${prog} and of the database schema
`;
}
