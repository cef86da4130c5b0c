// The APIC bus (system bus messages on P6 and later): how interrupt
// messages from IOAPICs and IPIs from local APICs reach local APICs.
// Owns destination resolution (physical, logical flat/cluster, shorthands)
// and delivery-mode dispatch; INIT/STARTUP/NMI/SMI become machine callbacks
// because they act on the CPU, not on the APIC. Also carries EOI broadcasts
// from local APICs back to IOAPICs (level-triggered remote IRR).
//
// Reference: Intel SDM vol. 3A, 10.6 (issuing IPIs), 10.6.2 (destination modes).

// Delivery modes (SDM 10.6.1, ICR bits 10:8; same encoding in IOAPIC entries and LVTs).
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;

// Destination shorthands (ICR bits 19:18).
export const SH_NONE = 0;
export const SH_SELF = 1;
export const SH_ALL = 2;
export const SH_ALL_BUT_SELF = 3;

/** What the bus needs from a local APIC. */
export interface ApicBusMember {
  readonly apicId: number;
  /** Logical destination match (SDM 10.6.2.2) for an 8-bit logical destination. */
  matchesLogical(dest: number): boolean;
  /** Accept a fixed/lowest-priority interrupt into IRR (level = trigger mode is level). */
  acceptInterrupt(vector: number, level: boolean): void;
  /** Task priority, for lowest-priority arbitration. */
  readonly arbitrationPriority: number;
}

/** Listens for EOI broadcasts of level-triggered vectors (an IOAPIC). */
export interface EoiListener {
  eoi(vector: number): void;
}

export interface ApicBusCallbacks {
  /** INIT (asserted) sent to this APIC id: the machine resets that CPU to wait-for-SIPI. */
  onInit?: (apicId: number) => void;
  /** STARTUP IPI: the CPU starts in real mode at CS:IP = (vector << 8):0000, i.e. vector << 12. */
  onStartup?: (apicId: number, vector: number) => void;
  /** NMI for that CPU. */
  onNmi?: (apicId: number) => void;
  /** SMI: we have no SMM; the machine may log it. */
  onSmi?: (apicId: number) => void;
}

/** One interrupt message on the bus. */
export interface ApicMessage {
  dest: number; // 8-bit physical APIC id or logical destination
  logical: boolean; // destination mode
  deliveryMode: number;
  vector: number;
  level: boolean; // trigger mode (true = level)
  shorthand?: number; // IPIs only
  source?: ApicBusMember; // the sending LAPIC, for self / all-but-self
}

export class ApicBus {
  private readonly members: ApicBusMember[] = [];
  private readonly eoiListeners: EoiListener[] = [];
  private readonly targets: ApicBusMember[] = []; // scratch, reused (no allocation per message)

  constructor(public callbacks: ApicBusCallbacks = {}) {}

  attach(m: ApicBusMember): void {
    this.members.push(m);
  }

  addEoiListener(l: EoiListener): void {
    this.eoiListeners.push(l);
  }

  get lapics(): readonly ApicBusMember[] {
    return this.members;
  }

  /** A local APIC completed a level-triggered interrupt: tell every IOAPIC (SDM 10.8.5). */
  broadcastEoi(vector: number): void {
    for (const l of this.eoiListeners) l.eoi(vector);
  }

  private resolve(msg: ApicMessage): ApicBusMember[] {
    const t = this.targets;
    t.length = 0;
    const sh = msg.shorthand ?? SH_NONE;
    for (const m of this.members) {
      let hit: boolean;
      switch (sh) {
        case SH_SELF: hit = m === msg.source; break;
        case SH_ALL: hit = true; break;
        case SH_ALL_BUT_SELF: hit = m !== msg.source; break;
        default:
          if (msg.logical) hit = m.matchesLogical(msg.dest & 0xff);
          else hit = (msg.dest & 0xff) === 0xff || (m.apicId & 0xff) === (msg.dest & 0xff);
      }
      if (hit) t.push(m);
    }
    return t;
  }

  /** Deliver a message; returns the number of APICs that accepted it. */
  deliver(msg: ApicMessage): number {
    const targets = this.resolve(msg);
    if (targets.length === 0) return 0;
    const cb = this.callbacks;
    switch (msg.deliveryMode) {
      case DM_FIXED:
        for (const m of targets) m.acceptInterrupt(msg.vector & 0xff, msg.level);
        break;
      case DM_LOWEST: {
        // Lowest priority: the target with the lowest arbitration priority;
        // ties go to the lowest APIC id, which keeps runs deterministic.
        let best = targets[0];
        for (const m of targets) {
          if (m.arbitrationPriority < best.arbitrationPriority ||
            (m.arbitrationPriority === best.arbitrationPriority && m.apicId < best.apicId)) best = m;
        }
        best.acceptInterrupt(msg.vector & 0xff, msg.level);
        return 1;
      }
      case DM_INIT:
        // INIT level de-assert (level=0, trigger=level) only synchronises arbitration IDs.
        for (const m of targets) cb.onInit?.(m.apicId);
        break;
      case DM_STARTUP:
        for (const m of targets) cb.onStartup?.(m.apicId, msg.vector & 0xff);
        break;
      case DM_NMI:
        for (const m of targets) cb.onNmi?.(m.apicId);
        break;
      case DM_SMI:
        for (const m of targets) cb.onSmi?.(m.apicId);
        break;
      default: // ExtINT through the IOAPIC, reserved modes: not modelled
        return 0;
    }
    return targets.length;
  }
}
