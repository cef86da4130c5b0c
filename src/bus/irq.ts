// Interrupt wiring. A device raises an interrupt by driving an IrqLine it
// was given at construction; it never knows which controller listens.
// The CPU sees only an InterruptSource: its INTR pin and the INTA cycle.

export interface IrqLine {
  /** Drive the line high (true) or low (false). Edge-triggered receivers latch on 0->1. */
  set(level: boolean): void;
}

/** A line that drives several receivers at once (e.g. ISA IRQ -> PIC and IOAPIC pin). */
export function fanout(...lines: IrqLine[]): IrqLine {
  return { set: (level: boolean) => { for (const l of lines) l.set(level); } };
}

/** A line connected to nothing. */
export const NO_IRQ: IrqLine = { set: () => {} };

/** What a CPU core sees of its interrupt controller (SDM vol. 3, 6.3: INTR + INTA). */
export interface InterruptSource {
  /** INTR asserted: a maskable interrupt is waiting (the CPU still honours EFLAGS.IF). */
  hasInterrupt(): boolean;
  /** The interrupt-acknowledge cycle: returns the vector and marks it in service. */
  acknowledge(): number;
}

export const NO_INTERRUPTS: InterruptSource = {
  hasInterrupt: () => false,
  acknowledge: () => 0xff,
};
