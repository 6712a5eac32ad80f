// One negotiated OpenFlow session with a controller or a tool (OVS's ofconn):
// its role, flow and packet-in formats, miss_send_len, controller id and
// async configuration, and the connection-level messages that set them. The
// rest goes to the switch core through OfprotoHooks.handleMessage, after the
// slave permission check; an OfError thrown there becomes the error reply.

import {
  NX_VENDOR_ID, ONF_VENDOR_ID, OfError, decodeMessage, encodeMessage, errorReply,
  type MessageKind, type OfMessage,
} from '../openflow/index.js';
import { Level, VlogRateLimit, vlogModule } from '../lib/vlog.js';
import {
  OAM, asyncReplyBody, decodeSetAsync, defaultAsyncConfig, emptyAsyncConfig, normalizeAsync, type AsyncConfig,
} from './conn-async.js';
import { packetInMessage, type PacketInData, type PacketInFormat } from './conn-packet-in.js';
import { PacketInScheduler } from './pinsched.js';
import type { Rconn } from './rconn.js';

const log = vlogModule('connmgr');

export type OfConnRole = 'equal' | 'master' | 'slave';
export type FlowFormat = 'openflow10' | 'nxm' | 'oxm';

/** What the switch core sees of a connection. */
export interface OfConn {
  readonly version: number;
  readonly type: 'primary' | 'service';
  readonly role: OfConnRole;
  readonly flowFormat: FlowFormat;
  readonly flowModTableId: boolean;
  readonly missSendLen: number;
  readonly controllerId: number;
  readonly packetInFormat: PacketInFormat;
  readonly name: string;
  send(msg: OfMessage): void;
  sendError(err: OfError, request: Uint8Array, xid: number): void;
  /** Bytes queued to the peer but not yet taken by the kernel (flow monitors pause above a limit). */
  unsentBytes?(): number;
}

/** The core's side of the connection manager. */
export interface OfprotoHooks {
  /** Every message that is not connection-level. Reply with conn.send(...). Throwing OfError makes connmgr send the error reply. */
  handleMessage(conn: OfConn, msg: OfMessage, raw: Uint8Array): void;
  /** The connection is gone: drop its bundles and monitors. */
  connectionClosed(conn: OfConn): void;
  /** Standalone fail mode: all controllers lost for long enough (true) or one is back (false). */
  failOpenChanged(active: boolean): void;
  /** SET_CONFIG changed the switch's OFPC_FRAG_* mode; return false if it is not supported (OVS refuses "reasm"). */
  setFragHandling?(mode: number): boolean;
}

/** What a connection needs from the manager that owns it. */
export interface ConnOwner {
  readonly hooks: OfprotoHooks;
  /** Switch-wide OFPC_FRAG_* mode. */
  fragHandling: number;
  /** Checks generation_id against the last one (OFPRRFC_STALE) and records it. */
  setElectionId(id: bigint): boolean;
  electionId(): bigint | undefined;
  /** Makes `conn` master: any other master becomes slave and hears ROLE_STATUS. */
  demoteOtherMasters(conn: OfConnection): void;
  /** A controller accepted us: fail-open may end. */
  messageReceived(conn: OfConnection): void;
  /** Packet-ins were queued by a rate limiter; run the release loop. */
  scheduleRelease(conn: OfConnection): void;
}

/** Messages a slave may not send (OVS's reject_secondary_controller callers). */
const SLAVE_FORBIDDEN = new Set<MessageKind>([
  'FLOW_MOD', 'NXT_FLOW_MOD', 'GROUP_MOD', 'NXT_GROUP_MOD', 'PORT_MOD', 'METER_MOD', 'TABLE_MOD', 'PACKET_OUT',
  'BUNDLE_CONTROL', 'BUNDLE_ADD_MESSAGE', 'NXT_TLV_TABLE_MOD',
]);

const OFP_DEFAULT_MISS_SEND_LEN = 128;
const ERROR_REPLY_LOG = new VlogRateLimit(10, 10);
const OFPC_FRAG_MASK = 3;
const OFPC_INVALID_TTL_TO_CONTROLLER = 4;
const ROLE_NUM: Record<OfConnRole, number> = { equal: 1, master: 2, slave: 3 };
const ROLE_BY_NUM: Readonly<Record<number, OfConnRole>> = { 1: 'equal', 2: 'master', 3: 'slave' };
const NO_GENERATION = 0xffffffffffffffffn;
/** Most packet-ins waiting to be written per connection before new ones are dropped (OVS's controller queue size). */
const PACKET_IN_QUEUE_SIZE = 100;

export interface OfConnSettings {
  type: 'primary' | 'service';
  enableAsyncMessages: boolean;
  rateLimit?: number;
  burstLimit?: number;
}

export class OfConnection implements OfConn {
  role: OfConnRole = 'equal';
  flowFormat: FlowFormat;
  flowModTableId = false;
  missSendLen: number;
  controllerId = 0;
  packetInFormat: PacketInFormat = 'standard';
  readonly type: 'primary' | 'service';
  private asyncCfg: AsyncConfig | null = null;
  private enableAsync: boolean;
  /** Rate limiters for [action, miss] packet-ins, when a rate limit is set. */
  schedulers: [PacketInScheduler<Uint8Array>, PacketInScheduler<Uint8Array>] | null = null;
  private pinInFlight = 0;
  /** Packet-ins dropped because the connection could not keep up. */
  pinOverflow = 0;
  private closed = false;

  constructor(readonly rconn: Rconn, private readonly owner: ConnOwner, settings: OfConnSettings) {
    this.type = settings.type;
    this.enableAsync = settings.enableAsyncMessages;
    this.flowFormat = rconn.version === 1 ? 'openflow10' : 'oxm';
    this.missSendLen = settings.type === 'primary' ? OFP_DEFAULT_MISS_SEND_LEN : 0;
    this.setRateLimit(settings.rateLimit ?? 0, settings.burstLimit ?? 0);
  }

  get version(): number {
    return this.rconn.version;
  }

  get name(): string {
    return this.rconn.name;
  }

  get isConnected(): boolean {
    return !this.closed && this.rconn.isConnected;
  }

  reconfigure(settings: OfConnSettings): void {
    this.enableAsync = settings.enableAsyncMessages;
    this.setRateLimit(settings.rateLimit ?? 0, settings.burstLimit ?? 0);
  }

  setRateLimit(rate: number, burst: number): void {
    if (rate > 0) {
      if (this.schedulers) for (const s of this.schedulers) s.setLimits(rate, burst);
      else this.schedulers = [new PacketInScheduler(rate, burst), new PacketInScheduler(rate, burst)];
    } else {
      this.schedulers = null;
    }
  }

  markClosed(): void {
    this.closed = true;
    this.schedulers = null;
  }

  // ------------------------------------------------------------ sending

  send(msg: OfMessage): void {
    this.sendRaw(encodeMessage(msg));
  }

  unsentBytes(): number {
    return this.rconn.unsentBytes;
  }

  sendRaw(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    return this.rconn.send(bytes);
  }

  sendError(err: OfError, request: Uint8Array, xid: number): void {
    // Misbehaving peers must not fill the log: one limit for every connection, ten lines a minute, as OVS's.
    ERROR_REPLY_LOG.log(log, Level.INFO, `${this.name}: sending ${err.error} error reply to ${describe(request)} message`);
    // The whole offending message, as ovs-vswitchd quotes it (bounded by what one error message can carry).
    this.send(errorReply(err, request.subarray(0, 0xffff - 12), this.version > 0 ? this.version : undefined, xid));
  }

  // ------------------------------------------------------------ asynchronous messages

  asyncConfig(): AsyncConfig {
    if (this.asyncCfg) return this.asyncCfg;
    return this.enableAsync ? defaultAsyncConfig(this.version) : emptyAsyncConfig();
  }

  /** Whether this connection wants an asynchronous message of `oam` type for `reason`. */
  receivesAsync(oam: number, reason: number): boolean {
    if (!this.isConnected || reason >= 32) return false;
    // Service connections stay quiet until they ask, by setting a miss_send_len.
    if (this.type === 'service' && !this.missSendLen) return false;
    const c = this.asyncConfig();
    const masks = this.role === 'slave' ? c.slave : c.master;
    return ((masks[oam]! >>> reason) & 1) === 1;
  }

  /** Queues a packet-in for this connection through its rate limiter. */
  sendPacketIn(pin: PacketInData, isMiss: boolean): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(packetInMessage(this.version, this.packetInFormat, pin));
    } catch (e) {
      log.warn(`${this.name}: cannot encode packet-in: ${(e as Error).message}`);
      return;
    }
    const s = this.schedulers?.[isMiss ? 1 : 0];
    if (!s) {
      this.writePacketIn(bytes);
      return;
    }
    const inPort = Number(pin.metadata.in_port?.value ?? 0);
    const now = s.send(inPort, bytes);
    if (now) this.writePacketIn(now);
    else this.owner.scheduleRelease(this);
  }

  /** Releases rate-limited packet-ins (at most 50 per scheduler); ms until more can go, or null. */
  releasePacketIns(): number | null {
    if (!this.schedulers) return null;
    let wake: number | null = null;
    for (const s of this.schedulers) {
      for (const b of s.run(50)) this.writePacketIn(b);
      const w = s.nextWake();
      if (w !== null) wake = wake === null ? w : Math.min(wake, w);
    }
    return wake;
  }

  private writePacketIn(bytes: Uint8Array): void {
    if (this.pinInFlight >= PACKET_IN_QUEUE_SIZE) {
      this.pinOverflow++;
      log.dbg(`${this.name}: dropping packet-in due to queue overflow`);
      return;
    }
    this.pinInFlight++;
    if (!this.rconn.send(bytes, () => this.pinInFlight--)) this.pinInFlight--;
  }

  sendRoleStatus(role: OfConnRole, reason: number, generation: bigint | undefined): void {
    const v = this.version;
    const gen = generation ?? NO_GENERATION;
    if (v >= 5) {
      this.send({ version: v, xid: 0, kind: 'ROLE_STATUS', body: { role: ROLE_NUM[role], reason, generation_id: gen, properties: [] } });
    } else if (v === 4) {
      // OF1.3 has no ROLE_STATUS; OVS sends the ONF extension (experimenter 0x4f4e4600, type 1911).
      const b = new Uint8Array(32);
      const dv = new DataView(b.buffer);
      dv.setUint8(0, 4);
      dv.setUint8(1, 4);
      dv.setUint16(2, 32);
      dv.setUint32(8, ONF_VENDOR_ID);
      dv.setUint32(12, 1911);
      dv.setUint32(16, ROLE_NUM[role]);
      dv.setUint8(20, reason);
      dv.setBigUint64(24, gen);
      this.sendRaw(b);
    }
  }

  // ------------------------------------------------------------ receiving

  receive(raw: Uint8Array): void {
    let msg: OfMessage;
    const xid = raw.length >= 8 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(4) : 0;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      // The codec promises OfError only; anything else is its bug, reported as a length error rather than a crash.
      if (!(e instanceof OfError)) log.err(`${this.name}: decoding failed: ${(e as Error).stack ?? String(e)}`);
      this.sendError(e instanceof OfError ? e : new OfError('OFPBRC_BAD_LEN'), raw, xid);
      return;
    }
    this.owner.messageReceived(this);
    try {
      if (!this.handleConnectionLevel(msg, raw)) {
        if (this.role === 'slave' && SLAVE_FORBIDDEN.has(msg.kind)) {
          throw new OfError('OFPBRC_IS_SECONDARY', `${msg.kind} from a slave controller`);
        }
        this.owner.hooks.handleMessage(this, msg, raw);
      }
    } catch (e) {
      if (e instanceof OfError) {
        this.sendError(e, raw, xid);
      } else {
        log.err(`${this.name}: ${msg.kind} failed: ${(e as Error).stack ?? String(e)}`);
        this.sendError(new OfError('OFPBRC_EPERM', 'internal error'), raw, xid);
      }
    }
  }

  /** Handles what the connection itself answers; false for messages for the core. */
  private handleConnectionLevel(msg: OfMessage, raw: Uint8Array): boolean {
    const { version, xid } = msg;
    switch (msg.kind) {
      case 'ECHO_REQUEST':
        this.send({ version, xid, kind: 'ECHO_REPLY', body: { data: msg.body.data } });
        return true;
      case 'ECHO_REPLY':
      case 'NXT_FLOW_AGE':
        return true;
      case 'HELLO':
      case 'ERROR':
        // OVS answers these after the handshake like any other unexpected message.
        throw new OfError('OFPBRC_BAD_TYPE', `${msg.kind} after the handshake`);
      case 'EXPERIMENTER': {
        const vendor = raw.length >= 12 ? new DataView(raw.buffer, raw.byteOffset).getUint32(8) : 0;
        if (vendor === NX_VENDOR_ID || vendor === ONF_VENDOR_ID) throw new OfError('OFPBRC_BAD_SUBTYPE', 'unknown Nicira/ONF message');
        throw new OfError('OFPBRC_BAD_VENDOR', `vendor 0x${vendor.toString(16).padStart(8, '0')}`);
      }
      case 'GET_CONFIG_REQUEST': {
        let flags = this.owner.fragHandling;
        if (version < 4 && this.asyncConfig().master[OAM.PACKET_IN]! & (1 << 2)) flags |= OFPC_INVALID_TTL_TO_CONTROLLER;
        this.send({ version, xid, kind: 'GET_CONFIG_REPLY', body: { flags, miss_send_len: this.missSendLen } });
        return true;
      }
      case 'SET_CONFIG':
        this.setConfig(msg.body.flags, msg.body.miss_send_len, version);
        return true;
      case 'ROLE_REQUEST':
      case 'NXT_ROLE_REQUEST':
        this.roleRequest(msg);
        return true;
      case 'GET_ASYNC_REQUEST':
        this.send({ version, xid, kind: 'GET_ASYNC_REPLY', body: asyncReplyBody(this.asyncConfig(), version) } as OfMessage);
        return true;
      case 'SET_ASYNC':
      case 'NXT_SET_ASYNC_CONFIG':
        this.asyncCfg = normalizeAsync(decodeSetAsync(msg, this.asyncConfig()), version);
        if (this.type === 'service' && !this.missSendLen) this.missSendLen = OFP_DEFAULT_MISS_SEND_LEN;
        return true;
      case 'NXT_SET_FLOW_FORMAT': {
        const f = msg.body.format;
        if (f !== 0 && f !== 2) throw new OfError('OFPBRC_EPERM', `flow format ${f}`);
        this.flowFormat = f === 2 ? 'nxm' : 'openflow10';
        return true;
      }
      case 'NXT_FLOW_MOD_TABLE_ID':
        // Only OpenFlow 1.0 flow_mods lack a table id; later versions ignore the setting, as OVS.
        if (version === 1) this.flowModTableId = msg.body.set !== 0;
        return true;
      case 'NXT_SET_PACKET_IN_FORMAT': {
        const f = msg.body.format;
        if (f > 2) throw new OfError('OFPBRC_EPERM', `packet-in format ${f}`);
        this.packetInFormat = (['standard', 'nxt_packet_in', 'nxt_packet_in2'] as const)[f]!;
        return true;
      }
      case 'NXT_SET_CONTROLLER_ID':
        for (let i = 16; i < 22; i++) if (raw[i]) throw new OfError('NXBRC_MUST_BE_ZERO', 'nx_controller_id padding');
        this.controllerId = msg.body.controller_id;
        return true;
      default:
        return false;
    }
  }

  private setConfig(flags: number, missSendLen: number, version: number): void {
    const valid = OFPC_FRAG_MASK | (version < 4 ? OFPC_INVALID_TTL_TO_CONTROLLER : 0);
    if (flags & ~valid) throw new OfError('OFPSCFC_BAD_FLAGS', `flags 0x${flags.toString(16)}`);
    // A slave primary controller may not change the switch-wide fragment handling.
    if (this.type !== 'primary' || this.role !== 'slave') {
      const frag = flags & OFPC_FRAG_MASK;
      if (frag !== this.owner.fragHandling) {
        const ok = this.owner.hooks.setFragHandling ? this.owner.hooks.setFragHandling(frag) : frag !== 2;
        if (ok) this.owner.fragHandling = frag;
        else log.warn(`${this.name}: unsupported fragment handling mode ${['normal', 'drop', 'reassemble', 'nx-match'][frag]}`);
      }
    }
    if (version < 4) {
      const c = this.asyncConfig();
      const m = { master: [...c.master], slave: [...c.slave] };
      if (flags & OFPC_INVALID_TTL_TO_CONTROLLER) m.master[OAM.PACKET_IN] = m.master[OAM.PACKET_IN]! | (1 << 2);
      else m.master[OAM.PACKET_IN] = m.master[OAM.PACKET_IN]! & ~(1 << 2);
      this.asyncCfg = normalizeAsync(m, version);
    }
    this.missSendLen = missSendLen;
  }

  private roleRequest(msg: OfMessage): void {
    let want: OfConnRole | null;
    let generation: bigint | undefined;
    if (msg.kind === 'NXT_ROLE_REQUEST') {
      // Nicira roles: other 0, master 1, slave 2 (one below OF1.2's numbers); no generation id.
      want = ROLE_BY_NUM[msg.body.role + 1] ?? null;
      if (!want) throw new OfError('OFPRRFC_BAD_ROLE', `role ${msg.body.role}`);
    } else if (msg.kind === 'ROLE_REQUEST') {
      const r = msg.body.role;
      if (r > 3) throw new OfError('OFPRRFC_BAD_ROLE', `role ${r}`);
      want = r === 0 ? null : ROLE_BY_NUM[r]!;
      if (r !== 0) generation = msg.body.generation_id;
    } else {
      return;
    }
    if (want) {
      if (want !== 'equal' && generation !== undefined && !this.owner.setElectionId(generation)) {
        throw new OfError('OFPRRFC_STALE', `generation_id ${generation}`);
      }
      if (want === 'master' && this.role !== 'master') this.owner.demoteOtherMasters(this);
      this.role = want;
    }
    const { version, xid } = msg;
    if (msg.kind === 'NXT_ROLE_REQUEST') {
      this.send({ version, xid, kind: 'NXT_ROLE_REPLY', body: { role: ROLE_NUM[this.role] - 1 } });
    } else {
      this.send({ version, xid, kind: 'ROLE_REPLY', body: { role: ROLE_NUM[this.role], generation_id: this.owner.electionId() ?? NO_GENERATION } });
    }
  }
}

/** A short name of a raw message for log lines. */
function describe(raw: Uint8Array): string {
  if (raw.length < 8) return 'invalid';
  return `type ${raw[1]} (OpenFlow 0x${raw[0]!.toString(16).padStart(2, '0')})`;
}

